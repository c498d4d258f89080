package expr

import "math"

// Datetime parts are computed from nanoseconds since the epoch with integer
// arithmetic (Howard Hinnant's civil-from-days), which is much cheaper per
// row than going through time.Time. All times are UTC.

const (
	nsSecond = int64(1e9)
	nsMinute = 60 * nsSecond
	nsHour   = 60 * nsMinute
	nsDay    = 24 * nsHour
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// civil returns the proleptic Gregorian date of a day number (days since
// 1970-01-01).
func civil(days int64) (year, month, day int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysFromCivil is the inverse of civil.
func daysFromCivil(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := floorDiv(year, 400)
	yoe := year - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// weekday is the day of the week of a day number, Monday = 0 (1970-01-01
// was a Thursday).
func weekday(days int64) int64 { return floorMod(days+3, 7) }

// isoWeek is the ISO 8601 week number of a day number: week 1 holds the
// year's first Thursday.
func isoWeek(days int64) int64 {
	thursday := days - weekday(days) + 3
	y, _, _ := civil(thursday)
	return (thursday-daysFromCivil(y, 1, 1))/7 + 1
}

// timePart returns the kernel computing one datetime part.
func timePart(name string) func(o, a []int64) {
	switch name {
	case "year", "month", "day":
		which := map[string]int{"year": 0, "month": 1, "day": 2}[name]
		return func(o, a []int64) {
			for i, t := range a {
				y, m, d := civil(floorDiv(t, nsDay))
				o[i] = [3]int64{y, m, d}[which]
			}
		}
	case "hour":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = floorMod(t, nsDay) / nsHour
			}
		}
	case "minute":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = floorMod(t, nsHour) / nsMinute
			}
		}
	case "second":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = floorMod(t, nsMinute) / nsSecond
			}
		}
	case "day_of_week":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = weekday(floorDiv(t, nsDay))
			}
		}
	case "day_of_year":
		return func(o, a []int64) {
			for i, t := range a {
				days := floorDiv(t, nsDay)
				y, _, _ := civil(days)
				o[i] = days - daysFromCivil(y, 1, 1) + 1
			}
		}
	case "week_of_year":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = isoWeek(floorDiv(t, nsDay))
			}
		}
	case "date":
		return func(o, a []int64) {
			for i, t := range a {
				o[i] = floorDiv(t, nsDay) * nsDay
			}
		}
	}
	return nil
}

func isNaNOrInf(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
