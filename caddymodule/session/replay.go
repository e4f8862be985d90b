package session

import (
	"sync"
	"time"
)

// maxUsedStates bounds UsedStates. Past it the memory is cleared: replay
// protection then rests on the provider's single-use codes alone for a
// moment, which beats growing without limit under a flood of callbacks.
const maxUsedStates = 100_000

// UsedStates remembers the states of login flows whose callback has been
// processed, until the flows would have expired anyway, so a replayed
// callback is refused even when the browser still holds the flow cookie.
// It is per process: across replicas the provider's single-use
// authorization codes are what stops a replay.
type UsedStates struct {
	mu sync.Mutex
	m  map[string]int64 // state → Unix time it may be forgotten
}

// Use marks state used and reports whether it was unused before.
func (u *UsedStates) Use(state string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	t := now.Unix()
	if u.m == nil {
		u.m = make(map[string]int64)
	}
	if exp, ok := u.m[state]; ok && exp > t {
		return false
	}
	if len(u.m) >= maxUsedStates {
		for s, exp := range u.m {
			if exp <= t {
				delete(u.m, s)
			}
		}
		if len(u.m) >= maxUsedStates {
			clear(u.m)
		}
	}
	u.m[state] = t + int64((FlowTTL+clockSkew)/time.Second)
	return true
}
