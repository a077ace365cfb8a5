package main

// The container image has no zoneinfo files; the embedded database lets
// incident_time_zone name any IANA zone there too.
import _ "time/tzdata"
