package service

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"

	"github.com/tomato-code/realtime/service/auth"
)

// An idle node holds a socketData per connection: it fits the 32-byte size class.
func TestSocketDataFitsItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is measured for 64-bit platforms")
	}
	if n := unsafe.Sizeof(socketData{}); n > 32 {
		t.Errorf("socketData is %d bytes, more than the 32-byte size class", n)
	}
}

// socketData keeps room names and Unix nanoseconds; its JSON form, which cluster peers and
// the sockets listing read, must stay what the struct of ids and a formatted time gave.
func TestSocketDataJSONFormUnchanged(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.FixedZone("CET", 3600))
	d := newSocketData(auth.Identity{UserID: "u1", RestaurantID: "r1"}, at)
	got, err := json.Marshal(d)
	want := `{"userId":"u1","restaurantId":"r1","connectedAt":"` + at.UTC().Format(time.RFC3339Nano) + `"}`
	if err != nil || string(got) != want {
		t.Errorf("JSON form %s, %v; want %s", got, err, want)
	}
	if d.userRoom != "user:u1" || d.restaurantRoom() != "restaurant:r1" || !d.ConnectedAt().Equal(at) {
		t.Errorf("rooms %q %q, connected at %v", d.userRoom, d.restaurantRoom(), d.ConnectedAt())
	}
	// The sockets of a restaurant share its room's name.
	other := newSocketData(auth.Identity{UserID: "u3", RestaurantID: "r1"}, at)
	if unsafe.StringData(other.restaurantRoom()) != unsafe.StringData(d.restaurantRoom()) {
		t.Error("two sockets of restaurant r1 hold two copies of its room's name")
	}
	noRestaurant, err := json.Marshal(newSocketData(auth.Identity{UserID: "u2"}, at))
	want = `{"userId":"u2","connectedAt":"` + at.UTC().Format(time.RFC3339Nano) + `"}`
	if err != nil || string(noRestaurant) != want {
		t.Errorf("JSON form without a restaurant %s, %v; want %s", noRestaurant, err, want)
	}
	var back fetchedData
	if err := json.Unmarshal(got, &back); err != nil || back.ConnectedAt != at.UTC().Format(time.RFC3339Nano) || back.UserID != "u1" || back.RestaurantID != "r1" {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// A peer's data whose connectedAt is not a time must not cost the members after it.
func TestFetchedDataToleratesAnUnreadableTime(t *testing.T) {
	var d fetchedData
	if err := json.Unmarshal([]byte(`{"connectedAt":"yesterday","userId":"u2","restaurantId":"r2"}`), &d); err != nil ||
		d.UserID != "u2" || d.RestaurantID != "r2" {
		t.Errorf("%+v, %v", d, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, d.ConnectedAt); err == nil {
		t.Errorf("%q parsed as a time", d.ConnectedAt)
	}
}
