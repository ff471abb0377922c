// Which of some ids are stored, by _id lookups a few at a time: the one filter FerretDB answers from
// its index (a list of ids in $in is matched against every row it reads).
/** What the lookup needs of a collection, whatever else its documents hold. */
interface ById {
  findOne(filter: { _id: string }, options: { projection: { _id: 1 } }): Promise<{ _id: string } | null>;
}

/** The ids found in any of `cols`; `atOnce` ids are looked up concurrently. */
export async function foundById(cols: ById[], ids: string[], atOnce: number): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += atOnce) {
    const chunk = ids.slice(i, i + atOnce);
    const docs = await Promise.all(chunk.flatMap((_id) => cols.map((c) => c.findOne({ _id }, { projection: { _id: 1 } }))));
    for (const d of docs) if (d) found.add(d._id);
  }
  return found;
}
