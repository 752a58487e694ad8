package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// bigEnv is a 4,000-line .env whose last line holds tok.
func bigEnv(tok string) string {
	var b strings.Builder
	for i := 1; i < 4000; i++ {
		fmt.Fprintf(&b, "SETTING_%d=value-%d\n", i, i)
	}
	b.WriteString("GITHUB_TOKEN=" + tok + "\n")
	return b.String()
}

func TestScanWholeFindsSecretOnItsLine(t *testing.T) {
	s := scanner(t)
	content := bigEnv(token())
	out, err := s.ScanWhole(context.Background(), File{Path: "config/prod.env", Status: "added"}, []byte(content), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Media != "" || out.Unscanned != "" || len(out.Findings) != 1 {
		t.Fatalf("outcome %+v, want one finding", out)
	}
	if f := out.Findings[0]; f.Line != 4000 || f.Existing || f.Severity != checks.SeverityCritical {
		t.Errorf("finding %+v, want a new critical one on line 4000", f)
	}
}

// A secret already in the base's content is existing; one new in the file is not.
func TestScanWholeMarksWhatTheBaseHad(t *testing.T) {
	s := scanner(t)
	other := "ghp_" + "Z9yX8wV7uT6sR5qP4oN3" + "mL2kJ1iH0gF9"
	base := bigEnv(token())
	head := base + "OTHER_TOKEN=" + other + "\n"
	src := &contents{head: map[string]string{}, base: map[string]string{"config/prod.env": base}}
	out, err := s.ScanWhole(context.Background(), File{Path: "config/prod.env", Status: "modified"}, []byte(head), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 2 {
		t.Fatalf("findings %+v, want 2", out.Findings)
	}
	for _, f := range out.Findings {
		if want := f.Line == 4000; f.Existing != want {
			t.Errorf("line %d existing = %v, want %v", f.Line, f.Existing, want)
		}
	}
	if strings.Join(src.asked, ",") != "base:config/prod.env" {
		t.Errorf("asked %v, want the base once and never the head", src.asked)
	}
}

func TestScanWholeBinaryKinds(t *testing.T) {
	s := scanner(t)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2}, 100)...)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	zipOf := func(names ...string) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for _, n := range names {
			f, _ := w.Create(n)
			f.Write([]byte("\x00\x01 data"))
		}
		w.Close()
		return b.Bytes()
	}
	zipOfData := func(files map[string][]byte) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for n, d := range files {
			f, _ := w.Create(n)
			f.Write(d)
		}
		w.Close()
		return b.Bytes()
	}
	secretBin := append(append([]byte{0, 1, 2, 3}, []byte(" token="+token()+" ")...), 0, 0)
	cases := []struct {
		path      string
		content   []byte
		media     bool
		unscanned bool
		rule      string
	}{
		{"assets/logo.png", png, true, false, ""},
		{"assets/logo.bin", png, true, false, ""}, // by content, not by name
		{"docs/media.zip", zipOf("a.png", "b/c.jpg"), true, false, ""},
		{"dist/app.zip", zipOf("a.png", "config.env"), false, false, ""},
		{"dist/nested.zip", zipOfData(map[string][]byte{"inner.zip": zipOf("x.txt")}), false, true, ""},
		{"dist/secret.jar", zipOfData(map[string][]byte{"app.properties": []byte("token=" + token() + "\n")}), false, false, "github-pat"},
		{"dist/keys.zip", zipOfData(map[string][]byte{"prod.p12": []byte("opaque")}), false, false, RuleKeyContainer},
		{"certs/prod.p12", []byte("\x30\x82\x01\x00\x02\x01\x03 anything"), false, false, RuleKeyContainer},
		{"deploy/store.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, false, false, RuleKeyContainer},
		{"home/.ssh/id_ed25519", []byte("opaque"), false, false, RuleKeyContainer},
		{"keys/signing.bin", der, false, false, RuleKeyContainer}, // a DER key by content
		{"bin/tool", secretBin, false, false, "github-pat"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			out, err := s.ScanWhole(context.Background(), File{Path: tc.path, Status: "added"}, tc.content, nil)
			if err != nil {
				t.Fatal(err)
			}
			if (out.Media != "") != tc.media || (out.Unscanned != "") != tc.unscanned {
				t.Fatalf("outcome %+v", out)
			}
			if tc.rule == "" {
				if len(out.Findings) != 0 {
					t.Errorf("findings %+v, want none", out.Findings)
				}
				return
			}
			if len(out.Findings) != 1 || out.Findings[0].Rule != tc.rule {
				t.Fatalf("findings %+v, want one of %s", out.Findings, tc.rule)
			}
			f := out.Findings[0]
			if f.Severity != checks.SeverityCritical || f.Existing || f.Message == "" || f.Fix == "" && tc.rule == RuleKeyContainer {
				t.Errorf("finding %+v", f)
			}
			if strings.Contains(f.Message, string(tc.content)) {
				t.Errorf("message shows the content: %q", f.Message)
			}
		})
	}
}

// A key container the base already had, byte for byte, is existing; a replaced one is new.
func TestScanWholeKeyContainerAtBase(t *testing.T) {
	s := scanner(t)
	old := []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 1}
	src := &contents{head: map[string]string{}, base: map[string]string{"store.jks": string(old)}}
	out, err := s.ScanWhole(context.Background(), File{Path: "store.jks", Status: "modified"}, old, src)
	if err != nil || len(out.Findings) != 1 || !out.Findings[0].Existing {
		t.Fatalf("same keystore: %+v, %v", out, err)
	}
	out, err = s.ScanWhole(context.Background(), File{Path: "store.jks", Status: "modified"}, append(old, 7), src)
	if err != nil || len(out.Findings) != 1 || out.Findings[0].Existing {
		t.Fatalf("new keystore: %+v, %v", out, err)
	}
}

func TestIsBinaryByContent(t *testing.T) {
	latin := bytes.Repeat([]byte{0xe9, 0xe8, 'a'}, 100)
	for _, tc := range []struct {
		in   []byte
		want bool
	}{
		{[]byte("plain text\n"), false},
		{[]byte("héllo wörld ✓\n"), false},
		{[]byte("a\x00b"), true},
		{latin, true},
	} {
		if got := diff.IsBinary(tc.in); got != tc.want {
			t.Errorf("IsBinary(%q) = %v, want %v", tc.in[:min(len(tc.in), 20)], got, tc.want)
		}
	}
}
