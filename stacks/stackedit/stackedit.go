// Package stackedit changes one service's release in a stack file
// (stacks/Pulumi.<stack>.yaml) the way a person would: only the lines of
// that change move, every comment and every other line stays byte for
// byte. The release and canary pipelines use it through
// stacks/cmd/release, so a release pull request's diff is one line and its
// plan touches one service.
//
// It reads nothing but the file: the full validation of the result is
// `make plan STACK=<stack>` (stacks/config), which the pipelines run right
// after an edit. What is checked here is what the edit itself needs: the
// service's section exists, an image is a tag or a digest the config would
// accept, a weight is in range.
package stackedit

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ServicesKey is the stack file key holding each service's release.
const ServicesKey = "ecommerce:services"

// MaxCanaryWeight mirrors workload.MaxCanaryWeight (the config refuses more):
// the stable version keeps the majority of the traffic until promotion.
const MaxCanaryWeight = 50

var (
	digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// CheckImage refuses what the stack config would refuse for an image.
func CheckImage(image string) error {
	switch {
	case image == "":
		return errors.New("image is empty: give a digest (sha256:<64 hex>) or a tag")
	case image == "latest":
		return errors.New(`image "latest" is refused: it names no particular build`)
	case strings.HasPrefix(image, "sha256:") && !digestPattern.MatchString(image):
		return fmt.Errorf("image %q is not a digest: sha256: followed by 64 lower-case hex digits", image)
	case !digestPattern.MatchString(image) && !tagPattern.MatchString(image):
		return fmt.Errorf("image %q is neither a tag (letters, digits, _ . -, at most 128) nor a digest (sha256:...)", image)
	}
	return nil
}

// Canary is a service's canary as the file states it.
type Canary struct {
	Image  string
	Weight int
}

// Release is what the file says one service runs.
type Release struct {
	Image  string
	Canary *Canary
}

// File is a stack file being edited.
type File struct {
	src  []byte
	root *yaml.Node
}

// Parse reads a stack file.
func Parse(src []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("stack file: not a mapping")
	}
	return &File{src: append([]byte(nil), src...), root: doc.Content[0]}, nil
}

// Bytes is the file's current text.
func (f *File) Bytes() []byte { return append([]byte(nil), f.src...) }

// Get returns the scalar at a path of mapping keys ("config",
// "ecommerce:environment"), or "" and false.
func (f *File) Get(path ...string) (string, bool) {
	n := lookup(f.root, path)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// Decode decodes the value at a path of mapping keys into out; false when
// there is none.
func (f *File) Decode(out any, path ...string) (bool, error) {
	n := lookup(f.root, path)
	if n == nil {
		return false, nil
	}
	return true, n.Decode(out)
}

// Services lists the services the file configures, in file order.
func (f *File) Services() []string {
	n := lookup(f.root, []string{"config", ServicesKey})
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// Release returns a service's release.
func (f *File) Release(service string) (Release, error) {
	svc, err := f.service(service)
	if err != nil {
		return Release{}, err
	}
	var r Release
	if n := lookup(svc, []string{"image"}); n != nil {
		r.Image = n.Value
	}
	if c := lookup(svc, []string{"canary"}); c != nil && c.Kind == yaml.MappingNode {
		r.Canary = &Canary{}
		if n := lookup(c, []string{"image"}); n != nil {
			r.Canary.Image = n.Value
		}
		if n := lookup(c, []string{"weight"}); n != nil {
			w, err := strconv.Atoi(n.Value)
			if err != nil {
				return Release{}, fmt.Errorf("%s.%s.canary.weight: %q is not an integer", ServicesKey, service, n.Value)
			}
			r.Canary.Weight = w
		}
	}
	return r, nil
}

func (f *File) service(service string) (*yaml.Node, error) {
	services := lookup(f.root, []string{"config", ServicesKey})
	if services == nil || services.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("stack file has no %s mapping", ServicesKey)
	}
	svc := lookup(services, []string{service})
	if svc == nil {
		return nil, fmt.Errorf("%s.%s: no such service in the stack file; it has %s", ServicesKey, service, strings.Join(f.Services(), ", "))
	}
	if svc.Kind != yaml.MappingNode || svc.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("%s.%s: write it as a block mapping (one key per line) so that a release changes one line", ServicesKey, service)
	}
	return svc, nil
}

// SetImage points a service at another image.
func (f *File) SetImage(service, image string) error {
	if err := CheckImage(image); err != nil {
		return fmt.Errorf("%s.%s.image: %w", ServicesKey, service, err)
	}
	return f.edit(service, func(r *Release) error {
		if r.Canary != nil && r.Canary.Image == image {
			return fmt.Errorf("%s.%s.image: %q is the canary's image; promote the canary instead", ServicesKey, service, image)
		}
		r.Image = image
		return nil
	})
}

// StartCanary runs image beside the stable one at weight percent,
// replacing a canary already there.
func (f *File) StartCanary(service, image string, weight int) error {
	if err := CheckImage(image); err != nil {
		return fmt.Errorf("%s.%s.canary.image: %w", ServicesKey, service, err)
	}
	if err := checkWeight(service, weight); err != nil {
		return err
	}
	return f.edit(service, func(r *Release) error {
		if r.Image == image {
			return fmt.Errorf("%s.%s.canary.image: %q is the stable image; a canary runs another build", ServicesKey, service, image)
		}
		r.Canary = &Canary{Image: image, Weight: weight}
		return nil
	})
}

// SetCanaryWeight changes the running canary's share of the traffic.
func (f *File) SetCanaryWeight(service string, weight int) error {
	if err := checkWeight(service, weight); err != nil {
		return err
	}
	return f.edit(service, func(r *Release) error {
		if r.Canary == nil {
			return fmt.Errorf("%s.%s.canary: there is no canary to weigh", ServicesKey, service)
		}
		r.Canary.Weight = weight
		return nil
	})
}

// PromoteCanary makes the canary's image the stable one and removes the
// canary.
func (f *File) PromoteCanary(service string) error {
	return f.edit(service, func(r *Release) error {
		if r.Canary == nil {
			return fmt.Errorf("%s.%s.canary: there is no canary to promote", ServicesKey, service)
		}
		r.Image, r.Canary = r.Canary.Image, nil
		return nil
	})
}

// RemoveCanary removes the canary: back to the stable image alone.
func (f *File) RemoveCanary(service string) error {
	return f.edit(service, func(r *Release) error {
		if r.Canary == nil {
			return fmt.Errorf("%s.%s.canary: there is no canary to remove", ServicesKey, service)
		}
		r.Canary = nil
		return nil
	})
}

func checkWeight(service string, weight int) error {
	if weight < 0 || weight > MaxCanaryWeight {
		return fmt.Errorf("%s.%s.canary.weight: %d: allowed 0 to %d", ServicesKey, service, weight, MaxCanaryWeight)
	}
	return nil
}

// edit applies change to a service's release as text edits, then checks
// that the new file means exactly the old one with that change.
func (f *File) edit(service string, change func(*Release) error) error {
	before, err := f.Release(service)
	if err != nil {
		return err
	}
	after := before
	if before.Canary != nil {
		c := *before.Canary
		after.Canary = &c
	}
	if err := change(&after); err != nil {
		return err
	}
	src, err := f.rewrite(service, before, after)
	if err != nil {
		return err
	}
	next, err := Parse(src)
	if err != nil {
		return fmt.Errorf("stackedit: the edit broke the file (a bug): %w", err)
	}
	if err := sameApartFrom(f, next, service, after); err != nil {
		return err
	}
	*f = *next
	return nil
}

// rewrite produces the new text. Scalars are replaced where they stand;
// a canary is added as a block after the service's last line, or removed
// with its lines.
func (f *File) rewrite(service string, before, after Release) ([]byte, error) {
	svc, err := f.service(service)
	if err != nil {
		return nil, err
	}
	lines := splitLines(f.src)
	imageNode := lookup(svc, []string{"image"})
	if imageNode == nil {
		return nil, fmt.Errorf("%s.%s.image: missing; the stack file must say which image the service runs", ServicesKey, service)
	}
	var edits []lineEdit
	if after.Image != before.Image {
		e, err := replaceScalar(lines, imageNode, quote(after.Image))
		if err != nil {
			return nil, fmt.Errorf("%s.%s.image: %w", ServicesKey, service, err)
		}
		edits = append(edits, e)
	}
	canaryKey, canaryNode := lookupPair(svc, "canary")
	switch {
	case before.Canary == nil && after.Canary == nil:
	case after.Canary == nil:
		e, err := removeEntry(lines, svc, canaryKey, canaryNode)
		if err != nil {
			return nil, fmt.Errorf("%s.%s.canary: %w", ServicesKey, service, err)
		}
		edits = append(edits, e)
	case before.Canary != nil && canaryNode.Style&yaml.FlowStyle == 0 &&
		lookup(canaryNode, []string{"image"}) != nil && lookup(canaryNode, []string{"weight"}) != nil:
		if after.Canary.Image != before.Canary.Image {
			e, err := replaceScalar(lines, lookup(canaryNode, []string{"image"}), quote(after.Canary.Image))
			if err != nil {
				return nil, err
			}
			edits = append(edits, e)
		}
		if after.Canary.Weight != before.Canary.Weight {
			e, err := replaceScalar(lines, lookup(canaryNode, []string{"weight"}), strconv.Itoa(after.Canary.Weight))
			if err != nil {
				return nil, err
			}
			edits = append(edits, e)
		}
	default:
		// No canary yet, or one written in another shape: (re)write it as
		// a block at the indentation of the service's keys.
		indent := strings.Repeat(" ", imageNode.Column-1)
		// The key of image sits at its own column; image's value column
		// is not the indentation, its key's is.
		if k, _ := lookupPair(svc, "image"); k != nil {
			indent = strings.Repeat(" ", k.Column-1)
		}
		block := []string{
			indent + "canary:\n",
			indent + "  image: " + quote(after.Canary.Image) + "\n",
			indent + "  weight: " + strconv.Itoa(after.Canary.Weight) + "\n",
		}
		if before.Canary != nil {
			e, err := removeEntry(lines, svc, canaryKey, canaryNode)
			if err != nil {
				return nil, fmt.Errorf("%s.%s.canary: %w", ServicesKey, service, err)
			}
			e.replacement = block
			edits = append(edits, e)
		} else {
			last := lastLine(svc)
			if last == len(lines) && !strings.HasSuffix(lines[last-1], "\n") {
				lines[last-1] += "\n"
			}
			edits = append(edits, lineEdit{from: last, to: last, replacement: block})
		}
	}
	return applyEdits(lines, edits), nil
}

// lineEdit replaces lines [from, to) (0-based) with replacement; from == to
// inserts before line from.
type lineEdit struct {
	from, to    int
	replacement []string
}

func applyEdits(lines []string, edits []lineEdit) []byte {
	// Apply from the bottom so earlier line numbers stay valid.
	for i := 0; i < len(edits); i++ {
		for j := i + 1; j < len(edits); j++ {
			if edits[j].from > edits[i].from {
				edits[i], edits[j] = edits[j], edits[i]
			}
		}
	}
	for _, e := range edits {
		tail := append([]string{}, lines[e.to:]...)
		lines = append(append(lines[:e.from], e.replacement...), tail...)
	}
	return []byte(strings.Join(lines, ""))
}

// splitLines keeps each line's newline, so joining gives the file back.
func splitLines(src []byte) []string {
	var out []string
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, string(src))
			break
		}
		out = append(out, string(src[:i+1]))
		src = src[i+1:]
	}
	return out
}

// replaceScalar rewrites one single-line scalar in place, keeping what
// precedes it and what follows it on its line (a comment).
func replaceScalar(lines []string, n *yaml.Node, text string) (lineEdit, error) {
	if n.Kind != yaml.ScalarNode {
		return lineEdit{}, errors.New("not a single value")
	}
	i := n.Line - 1
	if i < 0 || i >= len(lines) {
		return lineEdit{}, errors.New("position outside the file")
	}
	line := lines[i]
	start := runeOffset(line, n.Column-1)
	end, err := scalarEnd(line, start, n.Style)
	if err != nil {
		return lineEdit{}, err
	}
	return lineEdit{from: i, to: i + 1, replacement: []string{line[:start] + text + line[end:]}}, nil
}

// runeOffset converts yaml.v3's column (in characters) to a byte offset.
func runeOffset(line string, col int) int {
	n := 0
	for i := range line {
		if n == col {
			return i
		}
		n++
	}
	return len(line)
}

func scalarEnd(line string, start int, style yaml.Style) (int, error) {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, errors.New("a block scalar; write the value on one line")
	default:
		end := len(line)
		if j := strings.Index(line[start:], " #"); j >= 0 {
			end = start + j
		}
		return len(strings.TrimRight(line[:end], " \t\r\n")), nil
	}
	return 0, errors.New("a quoted value that does not end on its line")
}

// removeEntry deletes a key's lines: from the key's line through the last
// line of its value. The key must start its line.
func removeEntry(lines []string, parent, key, value *yaml.Node) (lineEdit, error) {
	if key == nil {
		return lineEdit{}, errors.New("not present")
	}
	from := key.Line - 1
	if strings.TrimSpace(lines[from][:runeOffset(lines[from], key.Column-1)]) != "" {
		return lineEdit{}, errors.New("shares its line with another key; put it on its own line")
	}
	to := lastLine(value)
	// A later sibling on the same line as the value's end would go too.
	for i := 0; i+1 < len(parent.Content); i += 2 {
		k := parent.Content[i]
		if k != key && k.Line-1 >= from && k.Line-1 < to {
			return lineEdit{}, errors.New("its lines hold another key too")
		}
	}
	return lineEdit{from: from, to: to}, nil
}

// lastLine is one past the last line (0-based) any part of n stands on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > last {
			last = l
		}
	}
	if n.Kind == yaml.ScalarNode {
		return n.Line
	}
	return last
}

func quote(s string) string { return strconv.Quote(s) }

func lookup(n *yaml.Node, path []string) *yaml.Node {
	for _, p := range path {
		_, v := lookupPair(n, p)
		if v == nil {
			return nil
		}
		n = v
	}
	return n
}

func lookupPair(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// sameApartFrom checks that next means exactly what prev means, apart
// from service's release, which must be want.
func sameApartFrom(prev, next *File, service string, want Release) error {
	got, err := next.Release(service)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("stackedit: the edit gave %+v, want %+v (a bug)", got, want)
	}
	strip := func(f *File) (map[string]any, error) {
		var m map[string]any
		if err := yaml.Unmarshal(f.src, &m); err != nil {
			return nil, err
		}
		cfg, _ := m["config"].(map[string]any)
		services, _ := cfg[ServicesKey].(map[string]any)
		svc, _ := services[service].(map[string]any)
		delete(svc, "image")
		delete(svc, "canary")
		return m, nil
	}
	a, err := strip(prev)
	if err != nil {
		return err
	}
	b, err := strip(next)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(a, b) {
		return errors.New("stackedit: the edit changed more than the service's image and canary (a bug)")
	}
	return nil
}
