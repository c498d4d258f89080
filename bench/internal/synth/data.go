package synth

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Taxi columns.
const (
	TaxiHour = iota
	TaxiDow
	TaxiMinute
	TaxiDistance
	TaxiDuration
	TaxiPickup
	TaxiDropoff
	TaxiPassengers
	TaxiCols
)

// TaxiZones is the number of pickup and dropoff zone codes.
const TaxiZones = 263

// Taxi generates n NYC-taxi-like trips: time features from synthetic 2023
// timestamps, a lognormal distance, a duration that depends on traffic,
// 263 zone codes with skewed popularity and airport zones, and a passenger
// count (2% missing, NaN). The fare is metered distance and time with a
// rush-hour surcharge, airport flat rates, zone effects and noise; 1% of
// fares are outliers. It returns X (n × TaxiCols, row-major), the fares
// and TaxiCols.
func Taxi(n int, seed uint64) ([]float64, []float64, int) {
	rng := rand.New(rand.NewPCG(seed, 0x7a71))
	const zones = TaxiZones
	// Zone popularity ~ 1/(rank+5); a fixed per-zone fare effect.
	cum := make([]float64, zones)
	zoneEffect := make([]float64, zones)
	zr := rand.New(rand.NewPCG(42, 42))
	var s float64
	for z := range zones {
		s += 1 / float64(z+5)
		cum[z] = s
		zoneEffect[z] = zr.NormFloat64() * 0.8
	}
	zone := func() int {
		u := rng.Float64() * s
		return min(sort.SearchFloat64s(cum, u), zones-1)
	}
	airport := func(z int) bool { return z == 1 || z == 132 || z == 138 }
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	X := make([]float64, n*TaxiCols)
	y := make([]float64, n)
	for i := range n {
		// Busier in the day and evening: reject night minutes half the time.
		var ts time.Time
		for {
			ts = time.Unix(start+rng.Int64N(365*24*3600), 0).UTC()
			if h := ts.Hour(); h >= 7 || rng.Float64() < 0.4 {
				break
			}
		}
		hour, dow := ts.Hour(), int(ts.Weekday())
		minute := hour*60 + ts.Minute()
		pu, do := zone(), zone()
		dist := math.Exp(0.9 + 0.75*rng.NormFloat64())
		if airport(pu) || airport(do) {
			dist = 12 + 6*rng.Float64()
		}
		weekday := dow >= 1 && dow <= 5
		rush := weekday && ((hour >= 7 && hour <= 9) || (hour >= 16 && hour <= 19))
		speed := 13 + 5*math.Cos(2*math.Pi*float64(minute-240)/1440) // mph
		if rush {
			speed *= 0.7
		}
		dur := dist / speed * 60 * math.Exp(0.2*rng.NormFloat64()) // minutes
		pass := float64(1 + min(5, int(math.Floor(-math.Log(rng.Float64())*0.7))))

		fare := 3 + 1.75*dist + 0.35*dur + zoneEffect[pu] + 0.5*zoneEffect[do]
		switch {
		case airport(pu) && airport(do):
			fare = 70 + 0.2*dur
		case airport(pu) || airport(do):
			fare = 52 + 0.1*dur + zoneEffect[pu]
		}
		if rush {
			fare += 2.5
		}
		if hour >= 20 || hour < 6 {
			fare += 1
		}
		if pass >= 5 {
			fare += 1.5
		}
		fare += 0.8 * rng.NormFloat64() * math.Sqrt(1+dist/5)
		if rng.Float64() < 0.01 {
			// Outliers: disputes, data-entry errors, negotiated fares.
			switch rng.IntN(3) {
			case 0:
				fare = 0
			case 1:
				fare *= 3 + 5*rng.Float64()
			default:
				fare = 100 + 400*rng.Float64()
			}
		}
		x := X[i*TaxiCols : i*TaxiCols+TaxiCols]
		x[TaxiHour], x[TaxiDow], x[TaxiMinute] = float64(hour), float64(dow), float64(minute)
		x[TaxiDistance], x[TaxiDuration] = math.Round(dist*100)/100, math.Round(dur*10)/10
		x[TaxiPickup], x[TaxiDropoff], x[TaxiPassengers] = float64(pu), float64(do), pass
		if rng.Float64() < 0.02 {
			x[TaxiPassengers] = math.NaN()
		}
		y[i] = math.Round(fare*100) / 100
	}
	return X, y, TaxiCols
}

// Binary columns: BinaryNumeric numeric features, then the categorical
// codes, whose cardinalities are BinaryCards.
const (
	BinaryNumeric = 20
	BinaryCols    = BinaryNumeric + 3
)

// BinaryCards are the cardinalities of Binary's categorical features.
var BinaryCards = [3]int{8, 50, 400}

// Binary generates n rows of 20 numeric features (8 informative with
// interactions, 4 correlated copies, 8 noise; 1% of rows have one NaN) and
// 3 categorical codes (cardinality 8, 50 and 400, skewed) with per-level
// effects, and a 0/1 target, about 30% positive. It returns X (n ×
// BinaryCols, row-major), y and BinaryCols.
func Binary(n int, seed uint64) ([]float64, []float64, int) {
	rng := rand.New(rand.NewPCG(seed, 0xb1))
	const cols = BinaryCols
	cards := BinaryCards
	var effects [3][]float64
	er := rand.New(rand.NewPCG(7, 7))
	for c, k := range cards {
		effects[c] = make([]float64, k)
		for j := range effects[c] {
			effects[c][j] = er.NormFloat64() * []float64{0.8, 0.5, 0.6}[c]
		}
	}
	X := make([]float64, n*cols)
	y := make([]float64, n)
	for i := range n {
		x := X[i*cols : i*cols+cols]
		for j := range 8 {
			x[j] = rng.NormFloat64()
		}
		for j := 8; j < 12; j++ {
			x[j] = x[j-8] + 0.5*rng.NormFloat64()
		}
		for j := 12; j < 20; j++ {
			x[j] = rng.NormFloat64()
		}
		// Skewed category frequencies.
		for c, k := range cards {
			x[20+c] = float64(min(k-1, int(float64(k)*math.Pow(rng.Float64(), 2))))
		}
		z := -1.3 + 0.9*x[0] - 0.7*x[1] + 0.6*x[2]*x[3] + math.Sin(2*x[4]) +
			0.5*math.Abs(x[5]) - 0.4*x[6]*x[6] +
			effects[0][int(x[20])] + effects[1][int(x[21])] + effects[2][int(x[22])]
		if x[7] > 0.5 {
			z += 0.6
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		if rng.Float64() < 0.01 {
			x[rng.IntN(20)] = math.NaN()
		}
	}
	return X, y, cols
}
