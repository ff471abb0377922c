package sqlite

import (
	"sync"

	"github.com/FerretDB/FerretDB/internal/util/fsql"
)

// Hookwire: SQLite takes one writer at a time per database file; a second writer gets SQLITE_BUSY and
// its busy handler sleeps (1, 2, 5, 10 ms, ...) before it tries again, so concurrent write commands
// left the CPU idle while they waited. Writers of one database queue on this mutex instead and start
// the moment the one before them commits.
var hookwireWriteLocks sync.Map // *fsql.DB -> *sync.Mutex

func hookwireLockWrites(db *fsql.DB) func() {
	m, _ := hookwireWriteLocks.LoadOrStore(db, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
