package agents

import "testing"

func BenchmarkEvaluateWorkflow(b *testing.B) {
	r := ruleByID(ruleGHA4)
	head := []byte(r.example)
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		Evaluate(testFP, r.examplePath, head, head)
	}
}

func BenchmarkEvaluateClaudeSettings(b *testing.B) {
	head := []byte(`{"permissions": {"allow": ["Bash(npm run test:*)", "Bash(curl:*)", "Read"], "deny": ["Read(./.env)"]}}`)
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		Evaluate(testFP, ".claude/settings.json", head, head)
	}
}
