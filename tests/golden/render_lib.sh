# Sourced by regen_render.sh and tests/integration/test_render_golden.sh.
# render_case CASE_YAML OUT_RAW [FORMAT]: renders one golden case into OUT_RAW
# (yaml or json), preparing its objects folder: <case>.objects/ or else
# _default.objects/; a <case>.prepare.sh hook gets a writable copy and may
# print extra flags; <case>.args holds fixed extra flags. Returns aigw's status.
# RENDER_OBJECTS is set to the folder used (for checks on the inputs).
render_case() {
  local yaml=$1 out=$2 fmt=${3:-yaml}
  local dir base objects args=()
  dir=$(dirname "$yaml")
  base=${yaml%.yaml}
  objects=$dir/_default.objects
  [ -e "$base.objects" ] && objects=$base.objects
  if [ -x "$base.prepare.sh" ]; then
    local copy
    copy=$(mktemp -d "${TMPDIR:-/tmp}/aigw-render-objects.XXXXXX")
    cp -rL "$objects/." "$copy/"
    # shellcheck disable=SC2207
    args+=($("$base.prepare.sh" "$copy"))
    objects=$copy
  fi
  if [ -f "$base.args" ]; then
    # shellcheck disable=SC2207
    args+=($(cat "$base.args"))
  fi
  RENDER_OBJECTS=$objects
  $AIGW_WRAP "$AIGW" render -f "$yaml" --objects "$objects" -o "$fmt" "${args[@]}" >"$out"
}
