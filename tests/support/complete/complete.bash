# Completes command lines with cwl-audit's bash completion script, as bash does on TAB, for
# tests/it/completions.rs:
#
#     bash --norc --noprofile complete.bash SCRIPT LINE...
#
# Sources SCRIPT, finds the function it registered for `cwl-audit` (`complete -p`), and calls it
# for each LINE (the cursor at its end) with COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as
# readline sets them and the arguments readline passes (command, current word, previous word).
# `compopt` works only under readline, so it is recorded instead; what readline then adds is done
# here: `-o plusdirs` adds the directories matching the word, and the registration's `-o default`
# completes file names when the function offered nothing. The first output line is the
# registration; then one line per LINE: LINE, a tab, the candidates separated by spaces (empty
# ones left out), a tab, the compopt calls.
source "$1" || exit 3
shift
spec=$(complete -p cwl-audit) || { echo "no completion registered for cwl-audit" >&2; exit 4; }
printf 'spec\t%s\n' "$spec"
fn=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<<"$spec")
compopt() { COMPOPTS+=("$*"); }
for line in "$@"; do
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    COMPOPTS=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    "$fn" cwl-audit "$cur" "$prev" 2>/dev/null
    if [[ " ${COMPOPTS[*]} " == *" -o plusdirs "* ]]; then
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
    fi
    if ((${#COMPREPLY[@]} == 0)) && [[ " $spec " == *" -o default "* ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    words=()
    for w in "${COMPREPLY[@]}"; do [[ -n $w ]] && words+=("$w"); done
    printf '%s\t%s\t%s\n' "$line" "${words[*]}" "${COMPOPTS[*]}"
done
