// The list commands' paging: one page from --page-token (or the first), or with --all every page after it.

/** The items of one page, or of every page with `all`, and the token where the listing stopped ("" at the end). */
export async function listPages<T>(
  all: boolean | undefined,
  firstToken: string | undefined,
  page: (pageToken: string | undefined) => Promise<{ items: T[]; nextPageToken: string }>,
): Promise<{ items: T[]; pageToken: string }> {
  const items: T[] = [];
  let pageToken = firstToken;
  do {
    const p = await page(pageToken);
    items.push(...p.items);
    pageToken = p.nextPageToken;
  } while (all && pageToken);
  return { items, pageToken: pageToken ?? "" };
}
