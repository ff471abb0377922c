package libc

import (
	"bytes"
	"unsafe"
)

// Hookwire: memcmp and memcpy with Go's vectorised routines instead of the transpiled byte and word
// loops. SQLite's JSON cache compares whole document texts with memcmp on every json_extract of an
// index expression: the byte loop was an eighth of FerretDB's CPU on Hookwire's inserts.
func hookwireMemcmp(l, r uintptr, n Tsize_t) int32 {
	if n == 0 {
		return 0
	}
	return int32(bytes.Compare(unsafe.Slice((*byte)(unsafe.Pointer(l)), n), unsafe.Slice((*byte)(unsafe.Pointer(r)), n)))
}

func hookwireMemcpy(d, s uintptr, n Tsize_t) uintptr {
	if n != 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(d)), n), unsafe.Slice((*byte)(unsafe.Pointer(s)), n))
	}
	return d
}
