package cost

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Money formats USD with thousands separators: $12,345.67.
func Money(v float64) string {
	cents := int64(math.Round(v * 100))
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := fmt.Sprint(cents / 100)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%s$%s.%02d", sign, b.String(), cents%100)
}

func regionLabel(r string) string {
	if r == "" {
		return "global"
	}
	return r
}

// Detail is how a line's cost is computed: "6 x 730 h x $0.3840/h".
func (l Line) Detail() string {
	return fmt.Sprintf("%d x %s %s x $%s/%s", l.Count, trim(l.Each), l.Unit, trim(l.USD), l.Unit)
}

func trim(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Write prints the estimate: the total, then per region and component each
// line with its arithmetic, what is not priced and why, every assumption and
// the price sources.
func (e *Estimate) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Monthly cost estimate of stack %s (environment %s): %s, on demand, before taxes, credits and free tiers\n",
		e.Stack, e.Environment, Money(e.Total()))
	fmt.Fprintf(&b, "Prices: stacks/cost/prices.go, written %s: %s\n", PricesDate, PricesNote)
	totals := e.RegionTotals()
	region, component := "\x00", "\x00"
	compTotals := map[[2]string]float64{}
	for _, l := range e.Lines {
		compTotals[[2]string{l.Region, l.Component}] += l.Monthly()
	}
	for _, l := range e.Lines {
		if l.Region != region {
			region, component = l.Region, "\x00"
			fmt.Fprintf(&b, "\n%-114s %14s\n", regionLabel(region), Money(totals[region]))
		}
		if l.Component != component {
			component = l.Component
			fmt.Fprintf(&b, "  %-112s %14s\n", component, Money(compTotals[[2]string{region, component}]))
		}
		fmt.Fprintf(&b, "    %-72s %-38s %14s\n", l.Item, l.Detail(), Money(l.Monthly()))
	}
	if len(e.NotPriced) > 0 {
		fmt.Fprintf(&b, "\nNot priced (left out of the total):\n")
		for _, n := range e.NotPriced {
			fmt.Fprintf(&b, "  %s %s: %s x %d: %s\n", regionLabel(n.Region), n.Component, n.What, n.Count, n.Why)
		}
	}
	fmt.Fprintf(&b, "\nAssumptions (change one with -assume name=value):\n")
	for _, l := range e.Assumptions.Lines() {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\nSources (on-demand list prices, USD):\n")
	for _, k := range sortedKeys(Sources) {
		fmt.Fprintf(&b, "  %-12s %s\n", k, Sources[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ComponentTotals are the totals by component over every region, largest
// first.
func (e *Estimate) ComponentTotals() []Total {
	sums := map[string]float64{}
	for _, l := range e.Lines {
		sums[l.Component] += l.Monthly()
	}
	out := make([]Total, 0, len(sums))
	for c, v := range sums {
		out = append(out, Total{Name: c, USD: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].USD != out[j].USD {
			return out[i].USD > out[j].USD
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Total is a named sum.
type Total struct {
	Name string
	USD  float64
}

// MarkdownTable is the README's table of estimates: one row per stack.
func MarkdownTable(estimates []*Estimate) string {
	var b strings.Builder
	b.WriteString("| Stack | Per month (on demand) | By region | Largest components | Not priced |\n")
	b.WriteString("|---|---:|---|---|---|\n")
	for _, e := range estimates {
		totals := e.RegionTotals()
		regions := make([]string, 0, len(totals))
		for _, r := range sortedKeys(totals) {
			regions = append(regions, fmt.Sprintf("%s %s", regionLabel(r), Money(totals[r])))
		}
		var comps []string
		for i, c := range e.ComponentTotals() {
			if i == 3 {
				break
			}
			comps = append(comps, fmt.Sprintf("%s %s", c.Name, Money(c.USD)))
		}
		kinds := map[string]bool{}
		for _, n := range e.NotPriced {
			kinds[n.What] = true
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d items of %d kinds |\n", e.Stack, Money(e.Total()),
			strings.Join(regions, ", "), strings.Join(comps, ", "), countItems(e.NotPriced), len(kinds))
	}
	return b.String()
}

func countItems(items []NotPriced) int {
	n := 0
	for _, i := range items {
		n += i.Count
	}
	return n
}
