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

	// The same text as the index DDL in metadata.Registry.IndexesCreate: SQLite uses an expression
	// index only for a query expression that is the same expression.
	column := func(field string) string { return fmt.Sprintf("%s->%q", metadata.DefaultColumn, field) }

	var branches []string
	var args []any

	for i := 0; i <= len(best); i++ {
		var conds []string

		eqFields := best
		if i > 0 {
			eqFields = best[:i-1]
		}

		for _, f := range eqFields {
			// The argument goes through the same `->` as the stored value, so both sides are the
			// same rendering of the same json.Marshal output whatever SQLite does to string escapes.
			conds = append(conds, column(f)+` = (? -> '$')`)
			args = append(args, eq[f])
		}

		if i > 0 {
			// '\' is the character after '['.
			conds = append(conds, fmt.Sprintf(`%[1]s >= '[' AND %[1]s < '\'`, column(best[i-1])))
		}

		branches = append(branches, fmt.Sprintf(`SELECT rowid FROM %q WHERE %s`, meta.TableName, strings.Join(conds, " AND ")))
	}

	return ` WHERE rowid IN (` + strings.Join(branches, " UNION ALL ") + `)`, args
}
