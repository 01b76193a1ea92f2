// `peppercorn completion bash|zsh`: a shell completion script generated from the command
// tree itself, so it never lists a command or flag that does not exist.
import type { Command, Option } from 'commander';
import { UsageError } from '../args';
import { act, type CliContext } from '../context';
import { out } from '../output';

/** Every command path ("job apply") with its subcommands and flags. */
function walk(cmd: Command, path: string[], acc: Map<string, { subs: string[]; flags: string[] }>): void {
  const flags = (cmd.options as readonly Option[])
    .filter((o) => !o.hidden)
    .flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
  acc.set(path.join(' '), { subs: cmd.commands.map((c) => c.name()), flags: [...flags, '--help'] });
  for (const sub of cmd.commands) walk(sub, [...path, sub.name()], acc);
}

export function completionScript(program: Command, shell: string): string {
  const tree = new Map<string, { subs: string[]; flags: string[] }>();
  walk(program, [], tree);
  const globalFlags = tree.get('')!.flags;
  const cases = [...tree.entries()]
    .map(([path, { subs, flags }]) => {
      const words = [...subs, ...new Set([...flags, ...globalFlags])].join(' ');
      return `    "${path}") echo "${words}" ;;`;
    })
    .join('\n');
  const fn = `_peppercorn_words() {
  # The command path typed so far (words that are commands, not flags or their values).
  local path="" w
  for w in "$@"; do
    case "$w" in -*) ;; *)
      case " $(_peppercorn_table "$path" | tr ' ' '\\n' | grep -v '^-' | tr '\\n' ' ') " in
        *" $w "*) path="\${path:+$path }$w" ;;
      esac ;;
    esac
  done
  _peppercorn_table "$path"
}
_peppercorn_table() {
  case "$1" in
${cases}
  esac
}`;
  if (shell === 'bash')
    return `# peppercorn completion for bash: source <(peppercorn completion bash)
${fn}
_peppercorn() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=( $(compgen -W "$(_peppercorn_words "\${COMP_WORDS[@]:1:COMP_CWORD-1}")" -- "$cur") )
}
complete -o default -F _peppercorn peppercorn
`;
  if (shell === 'zsh')
    return `#compdef peppercorn
# peppercorn completion for zsh: source <(peppercorn completion zsh)
${fn}
_peppercorn() {
  local -a words_
  words_=(\${(z)"$(_peppercorn_words "\${(@)words[2,CURRENT-1]}")"})
  compadd -- \${words_[@]}
}
if (( $+functions[compdef] )); then compdef _peppercorn peppercorn; fi
`;
  throw new UsageError(`no completion for "${shell}"; use bash or zsh`);
}

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('a shell completion script for commands and flags')
    .addHelpText(
      'after',
      '\nExamples:\n  $ source <(peppercorn completion bash)      # in ~/.bashrc\n  $ peppercorn completion zsh > "${fpath[1]}/_peppercorn"',
    )
    .action(
      act(ctx, (shell: string) => {
        out(completionScript(program, shell));
        return 0;
      }),
    );
}
