package fakecreds

// Made-up credentials in the real formats, for the demo and the tests. They are
// assembled at run time so that no source file of this repository holds a string that
// a secret scanner (escapegate included) would flag, and none is a live credential.

// FakeAWSKey is an AWS access key id that is not AWS's documented example.
func FakeAWSKey() string { return "AKIA" + "Z3MSJV4W" + "WNKWW5FG" }

// FakeGitHubPAT is a classic GitHub personal access token.
func FakeGitHubPAT() string { return "ghp_" + "R7kPq2Ws9Xv4Lm8Tz3Bn6Hc1" + "Jd5Fg0Ya7Ue2" }

// FakeSlackBotToken is a Slack bot token.
func FakeSlackBotToken() string {
	return "xoxb-" + "2934810247-" + "4829103847561-" + "Qm7Rt2Wx9Kp4Ln8Vb3Hc6Jd1"
}

// FakeStripeLiveKey is a Stripe live secret key.
func FakeStripeLiveKey() string {
	return "sk_live_" + "51Hx9Qm2Rt7Wk4Pn8Lz3Vb6Jc1" + "Fd5Gs0Ya7Ue2Io4Nm9Bq"
}
