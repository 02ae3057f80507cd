#!/usr/bin/env bash
# Run by the deploy runner before `pulumi preview` and `pulumi up` of a
# stack (.github/workflows/pulumi-stack.yml): fails fast, naming the config
# key, when this runner cannot reach the stack's EKS API servers, instead of
# letting the up create or change the AWS resources and then time out on
# every Kubernetes object.
#
# The clusters' endpoints are private, plus public to the CIDRs in
# ecommerce:clusterPublicAccessCidrs only. From outside the stack's VPCs
# (where the deploy runner lives: docs/delivery.md, "Private cluster
# endpoints") the runner's fixed egress address must be one of those CIDRs;
# from inside a VPC the cluster security group admits only the cluster's
# own nodes, so no runner there reaches the private endpoint either.
#
#   scripts/check-deploy-reach.sh <stack>     # needs pulumi logged in to the stack's backend, and curl
set -euo pipefail

stack=${1:?usage: check-deploy-reach.sh <stack>}
key=ecommerce:clusterPublicAccessCidrs

# The stack file as the program reads it: an unset key is the default [].
cidrs=$(pulumi config get "$key" --stack "$stack" 2>/dev/null || true)
if [ -z "$(printf '%s' "$cidrs" | tr -d '[:space:][]')" ]; then
  cat >&2 <<MSG
check-deploy-reach: stack $stack: $key is empty, so the clusters' API servers admit nobody outside their own nodes,
and pulumi cannot apply the Kubernetes objects. Add this deploy runner's fixed egress address (a /32) to $key in
stacks/Pulumi.$stack.yaml (docs/delivery.md, "Private cluster endpoints").
MSG
  exit 1
fi
echo "check-deploy-reach: $stack admits $cidrs on its public API endpoints"

# The clusters of a stack deployed before: each endpoint must answer (any
# HTTP status: the request is anonymous; a timeout means no network path).
outputs=$(pulumi stack output regions --json --stack "$stack" 2>/dev/null || true)
endpoints=$(printf '%s' "$outputs" | grep -o '"clusterEndpoint": *"https://[^"]*"' | sed 's/.*"\(https:[^"]*\)"/\1/' || true)
if [ -z "$endpoints" ]; then
  echo "check-deploy-reach: $stack has no cluster endpoints in its outputs yet (first deploy): nothing to probe"
  exit 0
fi
failed=0
for ep in $endpoints; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$ep/readyz" 2>/dev/null || true)
  if [ -z "$code" ] || [ "$code" = "000" ]; then
    echo "check-deploy-reach: $ep does not answer from this runner: is its egress address in $key of stack $stack?" >&2
    failed=1
  else
    echo "check-deploy-reach: $ep answers (HTTP $code)"
  fi
done
exit "$failed"
