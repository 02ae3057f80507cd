#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the Kubernetes dry-run test rung
# (stacks/kubeapi) from the Go module proxy, through the wrapper modules in
# tools/, caches them outside the clone in versioned directories and links
# them into bin/. A run with the binaries already cached only links them.
#
#   bash scripts/build-kube-apiserver.sh
#
# TOOLS_DIR overrides the cache root (default /opt/ecommerce-tools), as in
# the Makefile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=${TOOLS_DIR:-/opt/ecommerce-tools}
GO=${GO:-go}

# The versions are the ones the wrapper modules require; nothing else names them.
required() {
  awk -v m="$2" '($1 == "require" && $2 == m) { print $3; exit } ($1 == m && $2 ~ /^v/) { print $2; exit }' "$1"
}
k8s_version=$(required tools/kube-apiserver/go.mod k8s.io/kubernetes)
etcd_version=$(required tools/etcd/go.mod go.etcd.io/etcd/server/v3)
if [[ -z $k8s_version || -z $etcd_version ]]; then
  echo "build-kube-apiserver: cannot read the versions from tools/*/go.mod" >&2
  exit 1
fi

# shellcheck source=scripts/heavy-lock.sh
. scripts/heavy-lock.sh

# stamp: what a cached binary was built from (its wrapper module), so an
# edit to the wrapper rebuilds even when the version stays.
stamp() { cat "tools/$1/go.mod" "tools/$1/go.sum" | sha256sum | cut -d' ' -f1; }

# build NAME MODULE-DIR PACKAGE OUT-DIR [LDFLAGS]
build() {
  local name=$1 mod=$2 pkg=$3 dir=$4 ldflags=${5:-}
  local want
  want=$(stamp "$mod")
  cached() { [[ -x $dir/$name && -f $dir/STAMP && $(cat "$dir/STAMP") == "$want" ]]; }
  if cached; then
    echo "build-kube-apiserver: $dir/$name is cached"
  else
    local fd=
    if ! holds_heavy_lock; then
      echo "build-kube-apiserver: waiting for $heavy_lock"
      exec {fd}>>"$heavy_lock"
      flock "$fd"
    fi
    # Whoever held the lock may have built it meanwhile.
    if ! cached; then
      echo "build-kube-apiserver: building $name into $dir (one time, several minutes)"
      mkdir -p "$dir"
      local start=$SECONDS
      CGO_ENABLED=0 "$GO" build -C "tools/$mod" -trimpath -ldflags "-s -w $ldflags" -o "$dir/.$name.new" "$pkg"
      mv "$dir/.$name.new" "$dir/$name"
      echo "$want" >"$dir/STAMP"
      echo "build-kube-apiserver: built $name in $((SECONDS - start)) s, $(du -h "$dir/$name" | cut -f1)"
    fi
    if [[ -n $fd ]]; then exec {fd}>&-; fi
  fi
  mkdir -p "$root/bin"
  ln -sfn "$dir/$name" "$root/bin/$name"
}

# The version fields kubernetes' own build sets (hack/lib/version.sh), so
# /version reports the release instead of v0.0.0-master.
minor=${k8s_version#v1.}; minor=${minor%%.*}
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver \
  "$tools/kube-apiserver-$k8s_version" "$k8s_ldflags"
build etcd etcd go.etcd.io/etcd/server/v3 "$tools/etcd-$etcd_version"

bin/kube-apiserver --version
# The first line only, without a pipe that would end etcd with SIGPIPE.
etcd_says=$(bin/etcd --version)
echo "${etcd_says%%$'\n'*}"
