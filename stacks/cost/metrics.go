package cost

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/example/ecommerce-platform/stacks/planfile"
)

// Amazon Managed Service for Prometheus prices (us-east-1, written from
// memory like the rest of the table: refresh before budgeting). Other
// regions are priced at the same figures, a few percent off at most.
const (
	// AMPIngest10M is per 10 million samples ingested (the first 2 billion
	// a month; cheaper beyond).
	AMPIngest10M = 0.90
	// AMPStorageGBMonth is per GB-month of stored samples and metadata.
	AMPStorageGBMonth = 0.03
	// AMPCollectorHour is per managed collector (scraper) per hour.
	AMPCollectorHour = 0.04
	// AMPCollected10M is per 10 million samples a managed collector
	// scrapes.
	AMPCollected10M = 0.10
	// AMPRetentionDays is the workspace's default retention, which the
	// program keeps.
	AMPRetentionDays = 150
)

// scrapeInterval finds the interval in a collector's scrape configuration.
var scrapeInterval = regexp.MustCompile(`scrape_interval:\s*(\d+)s`)

// samplesPerMonth is what one region's collector scrapes a month: the
// assumed series per pod times the pods the region's autoscalers keep at
// least, every interval of the region's scrape configuration (the plan's:
// false when the region has none to read).
func (p *pricer) samplesPerMonth(region string) (samples float64, interval int, ok bool) {
	for _, sc := range p.plan.OfType("aws:amp/scraper:Scraper") {
		if m := scrapeInterval.FindStringSubmatch(sc.String("scrapeConfiguration")); sc.Region == region && m != nil {
			interval, _ = strconv.Atoi(m[1])
		}
	}
	if interval <= 0 {
		return 0, 0, false
	}
	pods := 0
	for _, h := range p.plan.OfType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") {
		if h.Region != region {
			continue
		}
		if n, ok := h.Number("spec.minReplicas"); ok {
			pods += int(n)
		}
	}
	perSecond := p.a.SeriesPerPod * float64(pods) / float64(interval)
	return perSecond * HoursPerMonth * 3600, interval, true
}

func (p *pricer) ampScraper(r *planfile.Resource, _ Regional, _ bool, c string) {
	p.line(r, c, "Prometheus managed collector", HoursPerMonth, "h", AMPCollectorHour, "amp")
	samples, interval, ok := p.samplesPerMonth(r.Region)
	if !ok {
		p.notPriced(r, c, "Prometheus samples collected", "no scrape interval in the collector's scrape configuration")
		return
	}
	p.line(r, c, fmt.Sprintf("Prometheus samples collected (series-per-pod x minimum pods / %d s)", interval), samples/1e7, "10 million samples", AMPCollected10M, "amp")
}

func (p *pricer) ampWorkspace(r *planfile.Resource, _ Regional, _ bool, c string) {
	samples, interval, ok := p.samplesPerMonth(r.Region)
	if !ok {
		p.notPriced(r, c, "Prometheus samples ingested and stored", "no collector with a scrape interval writes to it in the region")
		return
	}
	p.line(r, c, fmt.Sprintf("Prometheus samples ingested (series-per-pod x minimum pods / %d s)", interval), samples/1e7, "10 million samples", AMPIngest10M, "amp")
	// Steady state: the retention window's samples, at the assumed stored
	// size of one.
	stored := samples / (HoursPerMonth / 24) * AMPRetentionDays * p.a.BytesPerSample / 1e9
	p.line(r, c, fmt.Sprintf("Prometheus storage (%d days retained, sample-bytes)", AMPRetentionDays), stored, "GB-month", AMPStorageGBMonth, "amp")
}
