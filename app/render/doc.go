// Package render is the one place where escapegate's output is written: the check
// run (title, Markdown summary and text, line annotations), the refusal comment, the
// release PR comment, the monthly summary issue, and the text and JSON of
// `escapegate report`. It decides nothing: verdicts come from app/verdict and
// escape rates from app/escaperate. Every function is pure, data in and text out, and
// sees secrets only in their redacted form. One Markdown helper (markdown.go) escapes
// what reaches a table or a code span, and GitHub's limits live in limits.go.
package render
