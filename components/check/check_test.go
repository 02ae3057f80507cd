package check_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/ecommerce-platform/components/check"
)

func TestProblemsReportEveryFieldAtOnce(t *testing.T) {
	p := check.New("widget")
	require.NoError(t, p.Err(), "no problem, no error")

	p.Require("Name", false)
	p.Require("Region", true)
	p.Add("Size", "%d is out of range; allowed: 1 to %d", 9, 5)
	p.Merge("Nodes", []check.Problem{{Field: "minSize", Msg: "must not be negative"}})

	err := p.Err()
	var ce *check.Error
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, []string{"Name", "Size", "Nodes.minSize"}, ce.Fields())
	assert.Equal(t, "widget: invalid arguments: Name: is required; Size: 9 is out of range; allowed: 1 to 5; Nodes.minSize: must not be negative", err.Error())
}
