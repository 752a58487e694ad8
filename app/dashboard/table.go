package dashboard

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// table is one table of a page; the page shows it and its export serves it as CSV or
// JSON, from the same rows, so the two never disagree.
type table struct {
	Name  string // export name: /export/<name>?format=csv
	Title string
	Cols  []col
	Rows  [][]cell
	Note  string
	// Export is the table's export URL without the format.
	Export string
	// Pager is set when only part of the rows is shown.
	Pager *pager
}

type col struct {
	Key, Title string
	SortHref   string // set when the column can be sorted
	Sorted     string // "▲" or "▼" on the sorted column
	Num        bool
}

// cell is what is shown (Text, linked by Href) and what is exported (Value when set,
// else Text).
type cell struct {
	Text  string
	Href  string
	Value any
	Class string
}

type pager struct {
	From, To, Total int
	PrevHref        string
	NextHref        string
}

func txt(s string) cell { return cell{Text: s} }
func num(n int) cell    { return cell{Text: fmt.Sprint(n), Value: n, Class: "num"} }

// serveTable writes t as format (csv or json; json by default).
func serveTable(w http.ResponseWriter, t table, format, filename string) {
	filename = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, filename)
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`.csv"`)
		cw := csv.NewWriter(w)
		head := make([]string, len(t.Cols))
		for i, c := range t.Cols {
			head[i] = c.Key
		}
		_ = cw.Write(head)
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for i, c := range r {
				rec[i] = csvSafe(c.Text)
				if c.Value != nil {
					rec[i] = fmt.Sprint(c.Value)
				}
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
	case "", "json":
		rows := make([]map[string]any, 0, len(t.Rows))
		for _, r := range t.Rows {
			m := make(map[string]any, len(r))
			for i, c := range r {
				if c.Value != nil {
					m[t.Cols[i].Key] = c.Value
				} else {
					m[t.Cols[i].Key] = c.Text
				}
			}
			rows = append(rows, m)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`.json"`)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"table": t.Name, "rows": rows})
	default:
		http.Error(w, "format must be csv or json", http.StatusBadRequest)
	}
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a rule name or a path
// can begin with anything a PR author typed).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
