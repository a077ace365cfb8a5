package kpi

import (
	"testing"
	"unsafe"
)

// TestChangeRecordSize: the class rule that explanations list lives in what
// was padding, so a PR stays 72 bytes in every Input.
func TestChangeRecordSize(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(change{}); n != 72 {
		t.Errorf("a PR record is %d bytes, want 72", n)
	}
}
