// A unified diff of two short texts (job specs as YAML), for `job diff`.
// Plain LCS over lines: specs are tens of lines, so O(n·m) is nothing.

export function unifiedDiff(before: string, after: string, from: string, to: string, context = 3): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  // The edit script: ' ' kept, '-' removed, '+' added, with each line's position in a and b.
  const ops: { op: ' ' | '-' | '+'; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ op: ' ', line: a[i], ai: i++, bi: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1]))
      ops.push({ op: '-', line: a[i], ai: i++, bi: j });
    else ops.push({ op: '+', line: b[j], ai: i, bi: j++ });
  }
  if (!ops.some((o) => o.op !== ' ')) return '';
  const out = [`--- ${from}`, `+++ ${to}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].op === ' ') {
      k++;
      continue;
    }
    // A hunk: from `context` lines before the change to `context` lines after the last change near it.
    const start = Math.max(0, k - context);
    let end = k;
    for (let m = k; m < ops.length; m++) {
      if (ops[m].op !== ' ') end = m;
      else if (m - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    const hunk = ops.slice(start, end + 1);
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(
      `@@ -${aLen ? hunk[0].ai + 1 : hunk[0].ai},${aLen} +${bLen ? hunk[0].bi + 1 : hunk[0].bi},${bLen} @@`,
    );
    for (const o of hunk) out.push(o.op + o.line);
    k = end + 1;
  }
  return out.join('\n') + '\n';
}
