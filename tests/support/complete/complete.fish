# Completes command lines with cwl-audit's fish completion script, for tests/it/completions.rs:
#
#     fish --no-config complete.fish SCRIPT LINE...
#
# Sources SCRIPT and asks fish's completion engine (`complete -C`, what TAB uses) for each LINE.
# Prints one line per LINE: LINE, a tab, the candidates (descriptions left out) separated by spaces.
source $argv[1]; or exit 3
for line in $argv[2..-1]
    set -l hits (complete -C "$line" | string replace -r '\t.*' '')
    printf '%s\t%s\n' "$line" (string join ' ' -- $hits)
end
