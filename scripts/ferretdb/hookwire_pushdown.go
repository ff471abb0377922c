// Hookwire's addition to FerretDB v1.24.2's SQLite backend (copied in by scripts/build-ferretdb.sh).
//
// Upstream runs only a filter that is exactly {_id: <string or ObjectId>} in SQLite; every other
// filter reads the whole table and is matched in Go. This lets top-level string equalities on
// indexed fields narrow the rows in SQLite, through the index. The handler still matches every
// returned document against the whole filter in Go, so the condition built here only has to be a
// SUPERSET of the true matches; it never has to be exact.

package sqlite

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// hookwirePlainField is a field name that the index DDL (`_ferretdb_sjson->"name"`, written with %q)
// and SQL spell the same way: no quotes, escapes, dots or operators.
var hookwirePlainField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// hookwireEqualityWhere returns a WHERE clause (with its arguments) for the top-level string
// equalities of filter that form a key prefix of one of the collection's indexes, or "" when there
// is none.
//
// MongoDB's {f: "x"} matches documents whose f is the string "x" and documents whose f is an array
// with an element "x". In sjson, f's JSON text (what the index on `_ferretdb_sjson->"f"` holds) is
// then either exactly the JSON encoding of "x" or an array, whose text starts with '['. So for an
// index prefix f1..fk, a matching document satisfies one of:
//
//	B0: f1 = "x1" AND ... AND fk = "xk"
//	Bi: f1 = "x1" AND ... AND f(i-1) = "x(i-1)" AND fi is an array   (i = 1..k)
//
// (take the first field that is not the string itself: it is an array). Each branch is an equality
// prefix of the index plus at most one range on the next key, so SQLite answers each from the
// index; documents with array values (none, in Hookwire's collections) cost only what they are.
//
// Not pushed: a filter with a limit (the SQL LIMIT would count rows Go then drops), duplicated
// keys, dotted paths, operators, and values other than strings.
func hookwireEqualityWhere(meta *metadata.Collection, filter *types.Document, limit int64) (string, []any) {
	if filter.Len() == 0 || limit != 0 {
		return "", nil
	}

	eq := hookwireEqualities(filter)

	var best []string

	for _, index := range meta.Settings.Indexes {
		var prefix []string

		for _, key := range index.Key {
			if _, ok := eq[key.Field]; !ok {
				break
			}

			prefix = append(prefix, key.Field)
		}

		if len(prefix) > len(best) {
			best = prefix
		}
	}

	if len(best) == 0 {
		return "", nil
	}

	var branches []string
	var args []any

	for i := 0; i <= len(best); i++ {
		conds, condArgs := hookwireBranch(best, eq, i)
		branches = append(branches, fmt.Sprintf(`SELECT rowid FROM %q WHERE %s`, meta.TableName, strings.Join(conds, " AND ")))
		args = append(args, condArgs...)
	}

	return ` WHERE rowid IN (` + strings.Join(branches, " UNION ALL ") + `)`, args
}

// hookwireColumn is the same text as the index DDL in metadata.Registry.IndexesCreate: SQLite uses an
// expression index only for a query expression that is the same expression.
func hookwireColumn(field string) string { return fmt.Sprintf("%s->%q", metadata.DefaultColumn, field) }

// hookwireEqualities maps each top-level, plain, unrepeated field of filter whose value is a string to
// that string's sjson text.
func hookwireEqualities(filter *types.Document) map[string]string {
	seen := map[string]int{}
	for _, k := range filter.Keys() {
		seen[k]++
	}

	eq := map[string]string{}

	for _, k := range filter.Keys() {
		if seen[k] != 1 || !hookwirePlainField.MatchString(k) {
			continue
		}

		v := must.NotFail(filter.Get(k))
		if s, ok := v.(string); ok {
			eq[k] = string(must.NotFail(sjson.MarshalSingleValue(s)))
		}
	}

	return eq
}

// hookwireBranch returns the conditions of branch i for the equality prefix fields (see
// hookwireEqualityWhere): i = 0 all equalities, i > 0 the first i-1 equalities and field i an array.
func hookwireBranch(fields []string, eq map[string]string, i int) ([]string, []any) {
	var conds []string
	var args []any

	eqFields := fields
	if i > 0 {
		eqFields = fields[:i-1]
	}

	for _, f := range eqFields {
		// The argument goes through the same `->` as the stored value, so both sides are the
		// same rendering of the same json.Marshal output whatever SQLite does to string escapes.
		conds = append(conds, hookwireColumn(f)+` = (? -> '$')`)
		args = append(args, eq[f])
	}

	if i > 0 {
		// '\' is the character after '['.
		conds = append(conds, fmt.Sprintf(`%[1]s >= '[' AND %[1]s < '\'`, hookwireColumn(fields[i-1])))
	}

	return conds, args
}

// hookwireWhere returns the backend query's WHERE clause (with its arguments) from Hookwire's
// pushdowns, or "" when neither applies: an index walk for an _id-ordered, limited find
// (hookwireWalkWhere), else the equality pushdown.
func hookwireWhere(meta *metadata.Collection, filter *types.Document, limit, idOrder, idLimit int64) (string, []any) {
	if where, args := hookwireWalkWhere(meta, filter, idOrder, idLimit); where != "" {
		return where, args
	}

	return hookwireEqualityWhere(meta, filter, limit)
}

// HookwireStringsIndexPrefix starts the name of an index by which its creator declares that in this
// collection every _id is a string of [A-Za-z0-9_-] only, and every other key of the index, where
// present, is a string. FerretDB cannot check that cheaply, and an index walk is exact only then.
const HookwireStringsIndexPrefix = "hookwire_strings_"

// hookwireSafeID is an _id (or bound) whose sjson text sorts in SQLite as the string sorts in
// MongoDB: for strings of these characters (none below '#', no escapes), comparing "a" and "b" as
// text compares a and b byte by byte, and when a is a prefix of b the closing quote of "a" (0x22)
// sorts below every character b goes on with, as a shorter string sorts first.
var hookwireSafeID = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// hookwireWalkWhere answers a find sorted by {_id: ±1} with a limit L, whose filter is exactly
// top-level string equalities f1..fk and optionally a range on _id ($gt, $gte, $lt, $lte with
// strings), when the collection has an index named HookwireStringsIndexPrefix+… whose keys are
// f1..fk (in any order) and then _id. The backend then reads, through that index, only
//
//	W:  the first L rows (by _id, ascending or descending) with f1 = x1 AND ... AND fk = xk and the range
//	Bi: the rows with f1..f(i-1) equal and fi an array, as in hookwireEqualityWhere (i = 1..k)
//
// instead of every row the equalities select. It is exact under the index's declaration: there, a
// row matches the filter if and only if it satisfies W's conditions (the keys are strings, so their
// text equals the value's text only for that value; a range over safe ids compares as text the way
// it does as strings), and SQLite's order by _id's text is MongoDB's order by _id. So W holds the
// first L matches; Bi (empty under the declaration) keeps the clause a superset even without it.
// The handler still filters, sorts and limits in Go.
func hookwireWalkWhere(meta *metadata.Collection, filter *types.Document, idOrder, idLimit int64) (string, []any) {
	if idLimit <= 0 || (idOrder != 1 && idOrder != -1) || filter.Len() == 0 {
		return "", nil
	}

	eq := hookwireEqualities(filter)

	var rangeConds []string
	var rangeArgs []any

	for _, k := range filter.Keys() {
		if _, ok := eq[k]; ok && k != "_id" {
			continue
		}

		if k != "_id" || len(eq) != filter.Len()-1 {
			return "", nil
		}

		bounds, ok := must.NotFail(filter.Get(k)).(*types.Document)
		if !ok || bounds.Len() == 0 {
			return "", nil
		}

		seen := map[string]bool{}

		for _, op := range bounds.Keys() {
			sqlOp := map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
			bound, isString := must.NotFail(bounds.Get(op)).(string)

			if sqlOp == "" || seen[op] || !isString || !hookwireSafeID.MatchString(bound) {
				return "", nil
			}

			seen[op] = true
			rangeConds = append(rangeConds, fmt.Sprintf(`%s %s (? -> '$')`, hookwireColumn("_id"), sqlOp))
			rangeArgs = append(rangeArgs, string(must.NotFail(sjson.MarshalSingleValue(bound))))
		}
	}

	for _, index := range meta.Settings.Indexes {
		if !strings.HasPrefix(index.Name, HookwireStringsIndexPrefix) || len(index.Key) < len(eq)+1 {
			continue
		}

		var fields []string

		for _, key := range index.Key[:len(eq)] {
			if _, ok := eq[key.Field]; ok && key.Field != "_id" {
				fields = append(fields, key.Field)
			}
		}

		if len(fields) != len(eq) || index.Key[len(eq)].Field != "_id" {
			continue
		}

		conds, args := hookwireBranch(fields, eq, 0)
		conds = append(conds, rangeConds...)
		args = append(args, rangeArgs...)

		order := ""
		if idOrder == -1 {
			order = " DESC"
		}

		walk := fmt.Sprintf(
			`SELECT rowid FROM (SELECT rowid FROM %q WHERE %s ORDER BY %s%s LIMIT %d)`,
			meta.TableName, strings.Join(conds, " AND "), hookwireColumn("_id"), order, idLimit,
		)

		branches := []string{walk}

		for i := 1; i <= len(fields); i++ {
			conds, condArgs := hookwireBranch(fields, eq, i)
			branches = append(branches, fmt.Sprintf(`SELECT rowid FROM %q WHERE %s`, meta.TableName, strings.Join(conds, " AND ")))
			args = append(args, condArgs...)
		}

		return ` WHERE rowid IN (` + strings.Join(branches, " UNION ALL ") + `)`, args
	}

	return "", nil
}
