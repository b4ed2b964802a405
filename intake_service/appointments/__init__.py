"""Priority complaint appointments: eligibility, booking, requests, stations, slots, notices."""
