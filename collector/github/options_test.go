package github

import "testing"

func TestNewRequiresClient(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a client accepted")
	}
}
