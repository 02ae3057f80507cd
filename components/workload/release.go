package workload

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/example/ecommerce-platform/components/check"
)

// Release is what one service runs in every region: its image and its
// sizing. The stack configuration decodes `services.<service>` into it;
// a zero field takes the environment's default (Over).
type Release struct {
	// Image is a tag or a digest ("sha256:<64 hex>") in the service's own
	// repository; a digest names exactly one build and is preferred.
	Image string `json:"image"`
	// MinReplicas and MaxReplicas bound the HorizontalPodAutoscaler.
	MinReplicas int `json:"minReplicas,omitempty"`
	MaxReplicas int `json:"maxReplicas,omitempty"`
	// CPU and Memory are each container's requests and limits.
	CPU    Resources `json:"cpu,omitempty"`
	Memory Resources `json:"memory,omitempty"`
	// TargetCPUPercent is the autoscaler's target average CPU use, of the
	// request.
	TargetCPUPercent int `json:"targetCpuPercent,omitempty"`
	// Canary, when set, runs a second Deployment with its own image beside
	// the stable one; the traffic path sends it Weight percent.
	Canary *Canary `json:"canary,omitempty"`
}

// Resources are one resource's request and limit, as Kubernetes writes
// them ("250m", "1"; "256Mi", "1Gi").
type Resources struct {
	Request string `json:"request,omitempty"`
	Limit   string `json:"limit,omitempty"`
}

// Canary is a second image taking a share of the traffic.
type Canary struct {
	Image string `json:"image"`
	// Weight is the canary's percent of the service's traffic, 0 to 50;
	// 0 keeps it running without traffic (rollback).
	Weight int `json:"weight"`
}

// MaxCanaryWeight keeps the stable version the majority until promotion.
const MaxCanaryWeight = 50

// Over returns r with o's non-zero fields put over it.
func (r Release) Over(o Release) Release {
	if o.Image != "" {
		r.Image = o.Image
	}
	if o.MinReplicas != 0 {
		r.MinReplicas = o.MinReplicas
	}
	if o.MaxReplicas != 0 {
		r.MaxReplicas = o.MaxReplicas
	}
	if o.CPU.Request != "" {
		r.CPU.Request = o.CPU.Request
	}
	if o.CPU.Limit != "" {
		r.CPU.Limit = o.CPU.Limit
	}
	if o.Memory.Request != "" {
		r.Memory.Request = o.Memory.Request
	}
	if o.Memory.Limit != "" {
		r.Memory.Limit = o.Memory.Limit
	}
	if o.TargetCPUPercent != 0 {
		r.TargetCPUPercent = o.TargetCPUPercent
	}
	if o.Canary != nil {
		r.Canary = o.Canary
	}
	return r
}

var (
	digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// tagPattern is the tag grammar of the OCI distribution spec.
	tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	cpuPattern = regexp.MustCompile(`^([0-9]+)(m?)$|^([0-9]+)\.([0-9]{1,3})$`)
	memPattern = regexp.MustCompile(`^([0-9]+)(Mi|Gi)$`)
)

// IsDigest reports whether image names a digest rather than a tag.
func IsDigest(image string) bool { return digestPattern.MatchString(image) }

func checkImage(p *check.Problems, field, image string) {
	switch {
	case image == "":
		p.Add(field, "is required: a tag or a digest (sha256:...) of the service's image; a digest is preferred")
	case image == "latest":
		p.Add(field, `"latest" is refused: it names no particular build, so a release could not be told apart or rolled back; use a version tag or a digest`)
	case len(image) > 7 && image[:7] == "sha256:" && !IsDigest(image):
		p.Add(field, "%q is not a digest: sha256: followed by 64 lower-case hex digits", image)
	case !IsDigest(image) && !tagPattern.MatchString(image):
		p.Add(field, "%q is neither a tag (letters, digits, _ . -, at most 128) nor a digest (sha256:...)", image)
	}
}

// Check returns what Kubernetes or the platform would refuse, fields
// named as in the config.
func (r Release) Check() []check.Problem {
	p := check.New("")
	checkImage(p, "image", r.Image)
	if r.MinReplicas < 2 {
		p.Add("minReplicas", "%d: allowed at least 2, so a rollout or a node drain never leaves the service without a ready pod", r.MinReplicas)
	}
	if r.MaxReplicas < r.MinReplicas || r.MaxReplicas > 1000 {
		p.Add("maxReplicas", "%d: allowed minReplicas (%d) to 1000", r.MaxReplicas, r.MinReplicas)
	}
	cpuReq, okReq := MilliCPU(r.CPU.Request)
	cpuLim, okLim := MilliCPU(r.CPU.Limit)
	if !okReq || cpuReq == 0 {
		p.Add("cpu.request", "%q is not a CPU quantity such as 250m or 1", r.CPU.Request)
	}
	if !okLim || cpuLim == 0 {
		p.Add("cpu.limit", "%q is not a CPU quantity such as 500m or 2", r.CPU.Limit)
	}
	if okReq && okLim && cpuLim < cpuReq {
		p.Add("cpu.limit", "%s is below the request %s", r.CPU.Limit, r.CPU.Request)
	}
	memReq, okReq := MiB(r.Memory.Request)
	memLim, okLim := MiB(r.Memory.Limit)
	if !okReq || memReq == 0 {
		p.Add("memory.request", "%q is not a memory quantity such as 256Mi or 1Gi", r.Memory.Request)
	}
	if !okLim || memLim == 0 {
		p.Add("memory.limit", "%q is not a memory quantity such as 256Mi or 1Gi", r.Memory.Limit)
	}
	if okReq && okLim && memLim < memReq {
		p.Add("memory.limit", "%s is below the request %s", r.Memory.Limit, r.Memory.Request)
	}
	if r.TargetCPUPercent < 10 || r.TargetCPUPercent > 95 {
		p.Add("targetCpuPercent", "%d: allowed 10 to 95", r.TargetCPUPercent)
	}
	if c := r.Canary; c != nil {
		checkImage(p, "canary.image", c.Image)
		if c.Image == r.Image && c.Image != "" {
			p.Add("canary.image", "%q is the stable image; a canary runs another build (promote by moving it to image, roll back by removing the canary)", c.Image)
		}
		if c.Weight < 0 || c.Weight > MaxCanaryWeight {
			p.Add("canary.weight", "%d: allowed 0 to %d", c.Weight, MaxCanaryWeight)
		}
	}
	return p.List()
}

// MilliCPU reads the CPU quantities the platform accepts ("250m", "1",
// "1.5") as millicores. Kubernetes' own quantity parser would pull the
// API machinery into every program build for two unit forms.
func MilliCPU(q string) (int, bool) {
	m := cpuPattern.FindStringSubmatch(q)
	switch {
	case m == nil:
		return 0, false
	case m[1] != "" && m[2] == "m":
		n, err := strconv.Atoi(m[1])
		return n, err == nil
	case m[1] != "":
		n, err := strconv.Atoi(m[1])
		return n * 1000, err == nil
	default:
		whole, err1 := strconv.Atoi(m[3])
		frac, err2 := strconv.Atoi((m[4] + "00")[:3])
		return whole*1000 + frac, err1 == nil && err2 == nil
	}
}

// MiB reads the memory quantities the platform accepts ("256Mi", "2Gi")
// as mebibytes.
func MiB(q string) (int, bool) {
	m := memPattern.FindStringSubmatch(q)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if m[2] == "Gi" {
		n *= 1024
	}
	return n, err == nil
}

// ImageRef is the full reference of an image in a repository.
func ImageRef(repositoryURL, image string) string {
	if IsDigest(image) {
		return fmt.Sprintf("%s@%s", repositoryURL, image)
	}
	return fmt.Sprintf("%s:%s", repositoryURL, image)
}
