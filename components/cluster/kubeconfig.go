package cluster

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Kubeconfig renders a kubeconfig that authenticates with `aws eks
// get-token`, so no token or key is ever stored in state.
func Kubeconfig(clusterName, endpoint, caData, region string) (string, error) {
	if _, err := base64.StdEncoding.DecodeString(caData); err != nil {
		return "", fmt.Errorf("kubeconfig: certificate authority of %s is not base64: %w", clusterName, err)
	}
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": clusterName,
		"clusters": []map[string]any{{
			"name":    clusterName,
			"cluster": map[string]any{"server": endpoint, "certificate-authority-data": caData},
		}},
		"contexts": []map[string]any{{
			"name":    clusterName,
			"context": map[string]any{"cluster": clusterName, "user": clusterName},
		}},
		"users": []map[string]any{{
			"name": clusterName,
			"user": map[string]any{"exec": map[string]any{
				"apiVersion": "client.authentication.k8s.io/v1beta1",
				"command":    "aws",
				"args":       []string{"eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"},
			}},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
