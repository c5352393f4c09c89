/**
 * Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion), used for env
 * values, command, args and subPathExpr. Kept byte-for-byte compatible: an undefined variable stays as
 * written, `$$` escapes a `$`, and an unterminated `$(` is left alone.
 */

/** Looks a name up in each map in turn; an unknown name expands to itself, `$(NAME)`. */
export function mappingFuncFor(...contexts: Array<Map<string, string>>): (name: string) => string {
  return (name) => {
    for (const vars of contexts) {
      const v = vars.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: (name: string) => string): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] === "$" && cursor + 1 < input.length) {
      out += input.slice(checkpoint, cursor);
      const { read, isVar, advance } = tryReadVariableName(input.slice(cursor + 1));
      out += isVar ? mapping(read) : read;
      cursor += advance;
      checkpoint = cursor + 1;
    }
  }
  return out + input.slice(checkpoint);
}

function tryReadVariableName(input: string): { read: string; isVar: boolean; advance: number } {
  switch (input[0]) {
    case "$":
      return { read: "$", isVar: false, advance: 1 };
    case "(": {
      const close = input.indexOf(")", 1);
      if (close >= 1) return { read: input.slice(1, close), isVar: true, advance: close + 1 };
      return { read: "$(", isVar: false, advance: 1 };
    }
    default:
      return { read: `$${input[0]}`, isVar: false, advance: 1 };
  }
}
