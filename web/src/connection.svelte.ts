// Whether the console can reach its server: every request through api.ts
// says so (an answer, whatever its status, is reached; a network failure
// is not), and the header shows a banner while it cannot. The pages that
// follow the live stream reload their data when it is back (whenBack):
// what they asked for meanwhile failed, and a stream that outlived a
// network outage brings nothing of it.
export const connection = $state({ down: false });

const back = new Set<() => void>();

export function reached(): void {
  if (!connection.down) return;
  connection.down = false;
  for (const f of back) f();
}

export function unreachable(): void {
  if (!connection.down) connection.down = true;
}

// whenBack calls f each time the server is reached again after it was
// not, until the function it returns is called.
export function whenBack(f: () => void): () => void {
  back.add(f);
  return () => back.delete(f);
}
