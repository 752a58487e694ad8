package render

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// fence wraps s, on one line, in a Markdown code span whose fence is longer than
// any run of backticks inside s, so a path or value can never close the span early.
func fence(s string) string {
	s = oneLine(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", longest+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return f + pad + s + pad + f
}

// codeSpan is a code span safe anywhere in a check run, table cells included: pipes
// are escaped because GFM splits table cells on them even inside code spans.
func codeSpan(s string) string { return fence(escapePipes(oneLine(s))) }

// code is a code span for a report value: "—" when empty, at most maxValueRunes long.
func code(s string) string {
	s = clipRunes(oneLine(s), maxValueRunes)
	if s == "" {
		return "—"
	}
	return fence(s)
}

// codeCell is code safe inside a table cell.
func codeCell(s string) string { return escapePipes(code(s)) }

// shortCell is cell for a report value, at most maxValueRunes long, so one odd path
// cannot blow a body's limit.
func shortCell(s string) string { return cell(clipRunes(oneLine(s), maxValueRunes)) }

func escapePipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// clipRunes shortens s to at most n runes, marking the cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cell makes detector text safe for one Markdown table cell: one line, no cell
// separators, no raw HTML (file content reaches messages and must not render as
// markup). Code spans the detector wrote are kept, and their content is left
// as is, since entities would show literally inside them.
func cell(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '`' {
			n := backtickRun(s, i)
			if end := closingRun(s, i+n, n); end >= 0 {
				b.WriteString(s[i : i+n])
				b.WriteString(strings.ReplaceAll(s[i+n:end], "|", `\|`))
				b.WriteString(s[i : i+n])
				i = end + n
				continue
			}
			b.WriteString(s[i : i+n]) // unmatched backticks are literal text
			i += n
			continue
		}
		switch s[i] {
		case '|':
			b.WriteString(`\|`)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(s[i])
		}
		i++
	}
	return b.String()
}

// backtickRun is the number of backticks starting at s[i].
func backtickRun(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	return n
}

// closingRun finds, from index from, a run of exactly n backticks, which closes
// a code span opened by n; it returns -1 when there is none.
func closingRun(s string, from, n int) int {
	for k := from; k < len(s); {
		if s[k] != '`' {
			k++
			continue
		}
		m := backtickRun(s, k)
		if m == n {
			return k
		}
		k += m
	}
	return -1
}

// oneLine collapses line breaks and tabs into spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// plural returns "1 secret" or "2 secrets".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commaNumber(n) + " " + many
}

// noun picks the singular or plural form of a noun for n.
func noun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// commaNumber formats 3000 as "3,000".
func commaNumber(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// joinWord joins items as "a", "a or b", "a, b or c".
func joinWord(items []string, word string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

// budget is a Markdown builder that refuses to grow past a byte limit, so the
// summary and text always fit GitHub's 65,535-character fields. Byte length
// bounds character length, so counting bytes is the safe side.
type budget struct {
	b     strings.Builder
	limit int
}

func newBudget(limit int) *budget { return &budget{limit: limit} }

// fits reports whether s can still be added while keeping reserve bytes free.
func (w *budget) fits(s string, reserve int) bool { return w.b.Len()+len(s)+reserve <= w.limit }

// add appends s if it fits (keeping reserve free) and reports whether it did.
func (w *budget) add(s string, reserve int) bool {
	if !w.fits(s, reserve) {
		return false
	}
	w.b.WriteString(s)
	return true
}

// force appends s, clipped to whatever room is left.
func (w *budget) force(s string) {
	room := w.limit - w.b.Len()
	if room <= 0 {
		return
	}
	w.b.WriteString(clip(s, room))
}

func (w *budget) String() string { return w.b.String() }
