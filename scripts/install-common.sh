# Sourced by packages/{agent,controller}/packaging/install.sh, which run from a checkout (they take its
# build and its examples/ too): the arguments and checks both installers share. The installer defines
# `usage`, then calls:
#   install_args "$@"    `root` (default /) and `node` (default: the `node` on PATH) from --root and --node
#   install_checks NAME  refuses a Node other than 24 ("NAME runs on Node 24") and a --root that is not a
#                        directory; `node` and `root` made absolute
# and uses `die MESSAGE` (exit status 2) and `at PATH` (PATH under the root).

die() {
  echo "install.sh: $*" >&2
  exit 2
}

install_args() {
  root=/
  node=$(command -v node || true)
  while (($#)); do
    case $1 in
      --root) root=${2:?--root needs a directory}; shift 2 ;;
      --node) node=${2:?--node needs a path}; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
  done
}

install_checks() {
  local major
  [[ -n $node && -x $node ]] || die "no Node found: give --node /path/to/node (Node 24)"
  node=$(readlink -f "$node")
  major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)
  [[ $major == 24 ]] || die "$1 runs on Node 24; $node is ${major:-not a working node}.x (give --node)"
  [[ -d $root ]] || die "--root $root is not a directory"
  root=$(cd "$root" && pwd)
}

at() { echo "${root%/}$1"; }
