/**
 * Up to `limit` members of `sorted` (ascending, as `MetadataStore.members` returns them) that
 * sort after `after` (all of them when it is undefined): a binary search, then a slice.
 */
export function pageAfter(sorted: readonly string[], after: string | undefined, limit: number): string[] {
  if (limit <= 0) return [];
  let low = 0;
  if (after !== undefined) {
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((sorted[middle] as string) <= after) low = middle + 1;
      else high = middle;
    }
  }
  return sorted.slice(low, low + limit);
}

/** Members read from the store at a time while looking for ones a filter accepts. */
const SCAN_CHUNK = 1000;

/**
 * Up to `limit` members after `after` that `accept` takes, read from `read` (ascending pages,
 * like `MetadataStore.membersAfter`) a chunk at a time: a page of what the caller may read is
 * full however many members it may not read sort in between, and memory holds one chunk.
 */
export async function filteredPage(read: (after: string | undefined, limit: number) => Promise<string[]>, after: string | undefined, limit: number, accept: (member: string) => boolean, chunkSize = SCAN_CHUNK): Promise<string[]> {
  const found: string[] = [];
  if (limit <= 0) return found;
  let cursor = after;
  for (;;) {
    const chunk = await read(cursor, chunkSize);
    for (const member of chunk) if (accept(member) && found.push(member) === limit) return found;
    if (chunk.length < chunkSize) return found;
    cursor = chunk[chunk.length - 1];
  }
}
