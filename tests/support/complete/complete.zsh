# Completes command lines with cwl-audit's zsh completion function, in a real interactive zsh, for
# tests/it/completions.rs:
#
#     zsh -f complete.zsh FPATH_DIR LINE...
#
# FPATH_DIR holds `_cwl-audit` (`cwl-audit completions zsh`). An interactive `zsh -f -i` runs on a
# pseudo-terminal (zsh/zpty) with the completion system (`compinit`) and FPATH_DIR first in
# $fpath; each LINE is typed and TAB pressed, which runs `_main_complete` and so `_cwl-audit`.
# `compadd` is wrapped to print every match it adds; TAB is bound to a widget that prints markers
# around the completion. Prints one line per LINE: LINE, a tab, the matches separated by spaces.
# Exit 3: no zsh/zpty module.
if [[ -n $CWL_AUDIT_COMPLETE_CHILD ]]; then
    # Sourced by the interactive zsh on the pseudo-terminal.
    PS1='' RPS1='' PS2=''
    unsetopt beep
    bindkey -e
    fpath=("$CWL_AUDIT_COMPLETE_FPATH" $fpath)
    autoload -Uz compinit && compinit -u -D
    zstyle ':completion:*' list-grouped false
    zstyle ':completion:*' insert-tab false
    compadd() {
        # Calls that only collect or filter matches (-O, -A, -D) add nothing: passed on as they are.
        if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
            builtin compadd "$@"
            return $?
        fi
        local -a __hits
        builtin compadd -A __hits "$@"
        local h
        for h in $__hits; do print -r -- "<<hit>>$h"; done
        builtin compadd "$@"
    }
    __cwl_audit_capture() {
        print -r -- '<<begin>>'
        _main_complete
        print -r -- '<<end>>'
    }
    zle -C __cwl_audit_capture_widget complete-word __cwl_audit_capture
    bindkey '^I' __cwl_audit_capture_widget
    print -r -- '<<ready>>'
    return 0
fi
zmodload zsh/zpty 2>/dev/null || { print -u2 'zsh has no zsh/zpty module'; exit 3 }
export CWL_AUDIT_COMPLETE_CHILD=1 CWL_AUDIT_COMPLETE_FPATH=$1
shift
zpty z zsh -f -i
zpty -w z "source ${(q)${0:A}}"
local l
# The typed command is echoed too: the marker is printed alone on its line.
while zpty -r z l; do [[ ${l%%$'\r'*} == '<<ready>>' ]] && break; done
for case in "$@"; do
    zpty -w -n z "$case"$'\t'
    local -a hits=()
    local started=0
    while zpty -r z l; do
        l=${l//$'\r'/}
        l=${l%$'\n'}
        if [[ $l == *'<<begin>>'* ]]; then started=1; continue; fi
        (( started )) || continue
        [[ $l == *'<<end>>'* ]] && break
        [[ $l == *'<<hit>>'* ]] && hits+=("${l#*<<hit>>}")
    done
    print -r -- "$case"$'\t'"${(j: :)hits}"
    # Ctrl-U: the next line starts on an empty buffer.
    zpty -w -n z $'\x15'
done
zpty -d z
