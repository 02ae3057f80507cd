package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/example/ecommerce-platform/policies/rules"
)

// render writes the comment: one line per stack in a table, then per
// stack only what needs a reader's eyes (mandatory violations, a failed
// preview, the changes), the rest folded.
func render(sums []*stackSummary, opts Options, rows int, withCounts bool) string {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	b.WriteString("### Infrastructure plan\n\n")
	var meta []string
	if opts.HeadSHA != "" {
		meta = append(meta, "`"+short(opts.HeadSHA)+"`")
	}
	if opts.BaseRef != "" {
		meta = append(meta, "changes against `"+opts.BaseRef+"`")
	}
	if opts.RunURL != "" {
		meta = append(meta, "[plans, reports and previews]("+opts.RunURL+")")
	}
	if len(meta) > 0 {
		b.WriteString(strings.Join(meta, " · ") + "\n\n")
	}

	base := "base"
	if opts.BaseRef != "" {
		base = "`" + opts.BaseRef + "`"
	}
	fmt.Fprintf(&b, "| Stack | Cloud resources | Changes vs %s | Deploy time | Policies | Preview |\n|---|--:|---|--:|---|---|\n", base)
	for _, s := range sums {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", s.name, resourcesCell(s), changesCell(s), dash(s.deployTime), policyCell(s), previewCell(s))
	}

	for _, s := range sums {
		section := stackSection(s, opts, rows, withCounts)
		if section != "" {
			fmt.Fprintf(&b, "\n#### %s\n\n%s", s.name, section)
		}
	}
	return b.String()
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func resourcesCell(s *stackSummary) string {
	if s.err != "" {
		return "❌ no plan"
	}
	return fmt.Sprint(s.resources)
}

func changesCell(s *stackSummary) string {
	switch {
	case s.err != "":
		return "—"
	case !s.base:
		return "new stack"
	case len(s.changes) == 0:
		return "none"
	}
	n := map[string]int{}
	for _, c := range s.changes {
		n[c.op]++
	}
	var parts []string
	for _, op := range []string{"+", "~", "-"} {
		if n[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", op, n[op]))
		}
	}
	return strings.Join(parts, " ")
}

func policyCell(s *stackSummary) string {
	if s.report == nil {
		return "—"
	}
	m, a := s.report.Count(rules.Mandatory), s.report.Count(rules.Advisory)
	mark := "✅"
	if m > 0 {
		mark = "❌"
	}
	cell := fmt.Sprintf("%s %d mandatory · %d advisory", mark, m, a)
	if len(s.newAdvice) > 0 {
		cell += fmt.Sprintf(" (%d new)", len(s.newAdvice))
	}
	return cell
}

func previewCell(s *stackSummary) string {
	if s.preview == nil {
		return "—"
	}
	return s.preview.verdict() + ": " + s.preview.changeLine()
}

func stackSection(s *stackSummary, opts Options, rows int, withCounts bool) string {
	var b strings.Builder
	if s.err != "" {
		fmt.Fprintf(&b, "The plan failed:\n\n```text\n%s\n```\n", clip(s.err, 2000))
	}
	if s.report != nil {
		var mandatory []rules.Violation
		for _, v := range s.report.Violations {
			if v.Level == rules.Mandatory {
				mandatory = append(mandatory, v)
			}
		}
		if len(mandatory) > 0 {
			fmt.Fprintf(&b, "**%d mandatory policy violation(s)** (the deploy is blocked):\n\n", len(mandatory))
			writeViolations(&b, mandatory, rows)
		}
	}
	if p := s.preview; p != nil && (len(p.errors) > 0 || len(p.policies) > 0 || (p.exit != nil && *p.exit != 0)) {
		b.WriteString("<details><summary>pulumi preview: " + p.verdict() + "</summary>\n\n```text\n")
		lines := append(append([]string{}, p.errors...), p.policies...)
		writeCapped(&b, lines, rows*3, "")
		b.WriteString("```\n</details>\n\n")
	}
	if len(s.changes) > 0 {
		fmt.Fprintf(&b, "<details><summary>%d resource(s) change against the base: %s</summary>\n\n", len(s.changes), changeHeadline(s.changes))
		b.WriteString("| | Resource | Type | Region | Inputs that differ |\n|---|---|---|---|---|\n")
		for i, c := range s.changes {
			if i == rows {
				fmt.Fprintf(&b, "| | … and %d more | | | |\n", len(s.changes)-rows)
				break
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", c.op, c.name, c.typ, dash(c.region), strings.Join(c.keys, ", "))
		}
		b.WriteString("\n</details>\n\n")
	}
	if len(s.newAdvice) > 0 {
		fmt.Fprintf(&b, "<details><summary>%d new advisory finding(s)</summary>\n\n", len(s.newAdvice))
		writeViolations(&b, s.newAdvice, rows)
		b.WriteString("</details>\n\n")
	}
	if withCounts && len(s.counts) > 0 {
		b.WriteString("<details><summary>Resources per region and component</summary>\n\n")
		writeCounts(&b, s)
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// changeHeadline names the kinds of change, so the folded line already
// says "2 Deployment, 1 Job" for a release.
func changeHeadline(changes []change) string {
	kinds := map[string]int{}
	for _, c := range changes {
		t := c.typ
		if i := strings.LastIndex(t, ":"); i >= 0 {
			t = t[i+1:]
		}
		kinds[c.op+t]++
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for i, k := range names {
		if i == 6 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return strings.Join(parts, ", ")
}

func writeViolations(b *strings.Builder, vs []rules.Violation, rows int) {
	for i, v := range vs {
		if i == rows {
			fmt.Fprintf(b, "- … and %d more\n", len(vs)-rows)
			break
		}
		fmt.Fprintf(b, "- `%s` on `%s` %s: %s\n", v.Policy, v.Name, shortType(v.Type), clip(v.Message, 300))
	}
	b.WriteString("\n")
}

func shortType(t string) string {
	if i := strings.LastIndex(t, ":"); i >= 0 {
		return "(" + t[i+1:] + ")"
	}
	return ""
}

func writeCapped(b *strings.Builder, lines []string, max int, indent string) {
	for i, l := range lines {
		if i == max {
			fmt.Fprintf(b, "%s… and %d more lines\n", indent, len(lines)-max)
			return
		}
		b.WriteString(indent + clip(l, 300) + "\n")
	}
}

func writeCounts(b *strings.Builder, s *stackSummary) {
	comps := make([]string, 0, len(s.counts))
	for c := range s.counts {
		comps = append(comps, c)
	}
	sort.Strings(comps)
	b.WriteString("| Component | " + strings.Join(s.regions, " | ") + " |\n|---|")
	b.WriteString(strings.Repeat("--:|", len(s.regions)) + "\n")
	totals := map[string]int{}
	for _, c := range comps {
		cells := make([]string, len(s.regions))
		for i, r := range s.regions {
			n := s.counts[c][r]
			totals[r] += n
			cells[i] = fmt.Sprint(n)
			if n == 0 {
				cells[i] = ""
			}
		}
		b.WriteString("| " + c + " | " + strings.Join(cells, " | ") + " |\n")
	}
	cells := make([]string, len(s.regions))
	for i, r := range s.regions {
		cells[i] = fmt.Sprintf("**%d**", totals[r])
	}
	b.WriteString("| **total** | " + strings.Join(cells, " | ") + " |\n")
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
