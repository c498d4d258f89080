// Package expr is the small expression language of recipes: the split
// step's post_split_filter, a bool row filter, and the transform step's
// derive, which computes new columns.
//
//	post_split_filter: "fare_amount > 0 && fare_amount < 1000 && trip_distance > 0 && trip_distance < 400"
//	derive:
//	  pickup_hour: "hour(tpep_pickup_datetime)"
//	  pickup_dow: "day_of_week(tpep_pickup_datetime)"
//	  trip_duration: "minutes(tpep_dropoff_datetime - tpep_pickup_datetime)"
//	  ratio: "fare_amount / (trip_distance + 1)"
//
// [Compile] parses an expression and type-checks it against the columns
// available; errors are [*Error]s that point at the offending byte and say
// what is allowed. A [Program] then evaluates over a [frame.Frame] with
// [Program.Eval] (a new column) or [Program.Filter] (a keep mask).
//
// # Evaluation
//
// Programs are vectorised: the checked tree is lowered to a tree of closures
// over typed vectors with a null mask, evaluated a chunk of 1024 rows at a
// time so that the intermediate vectors stay in cache. Constant
// subexpressions are folded at compile time, and an operation with one
// constant operand (fare_amount > 0) has its own kernel. Strings stay
// dictionary coded: anything that depends only on a string's value (a
// comparison with a literal, in, lower, length, timestamp, ...) is computed
// once per dictionary entry, and rows cost one lookup by code. A Program is
// immutable and safe for concurrent use.
//
// # Grammar
//
// In EBNF, as in the Go specification; whitespace may appear between any two
// tokens, and there are no comments.
//
//	Expression = AndExpr { ( "||" | "or" ) AndExpr } .
//	AndExpr    = EqExpr { ( "&&" | "and" ) EqExpr } .
//	EqExpr     = RelExpr { ( "==" | "!=" ) RelExpr } .
//	RelExpr    = AddExpr { ( "<" | "<=" | ">" | ">=" ) AddExpr
//	                     | [ "not" ] "in" "(" ExprList ")" } .
//	AddExpr    = MulExpr { ( "+" | "-" ) MulExpr } .
//	MulExpr    = Unary { ( "*" | "/" | "%" ) Unary } .
//	Unary      = ( "-" | "!" | "not" ) Unary | Primary .
//	Primary    = Literal | Column | Call | "(" Expression ")" .
//	Call       = identifier "(" [ ExprList ] ")" .
//	ExprList   = Expression { "," Expression } .
//	Column     = identifier | quoted_name .
//	Literal    = int_lit | float_lit | string_lit | "true" | "false" | "null" .
//
//	identifier  = letter { letter | digit } .  // not a keyword
//	letter      = "A" … "Z" | "a" … "z" | "_" .
//	quoted_name = "`" { any character except "`" } "`" .
//	int_lit     = digits .
//	float_lit   = digits "." [ digits ] [ exponent ] | digits exponent
//	            | "." digits [ exponent ] .
//	exponent    = ( "e" | "E" ) [ "+" | "-" ] digits .
//	string_lit  = "'" { character | escape } "'" | `"` { character | escape } `"` .
//	escape      = `\` ( `\` | "'" | `"` | "n" | "r" | "t" | "0"
//	            | "x" hex hex | "u" hex hex hex hex | "U" hex hex hex hex hex hex hex hex ) .
//
// The keywords and, or, not, in, true, false and null are lower case. A
// column whose name is a keyword or has other characters is written in
// backticks: `trip distance`. An identifier followed by "(" is a function,
// otherwise a column, so a column may share a function's name.
//
// Precedence, from tightest: unary - ! not; * / %; + -; < <= > >= in;
// == !=; && and; || or. Binary operators associate to the left. As in C,
// ! binds tighter than a comparison: write !(a > b). Comparisons do not
// chain: write a < b && b < c.
//
// # Types
//
// Values are int, float, bool, string, timestamp (the column kinds) and
// duration. A program's result may be any of the column kinds; a duration
// result is refused: wrap it in seconds(), minutes(), hours() or days().
//
//   - Arithmetic + - * on two ints is int (wrapping on overflow); any other
//     mix of int and float is float; / is always float. % is the remainder
//     truncated towards zero, as in Go, C and SQL (not Python's floor). A
//     zero divisor of / or % gives null, never Inf or NaN.
//   - Strings compare lexicographically by bytes (==, !=, <, <=, >, >=);
//     s + t concatenates them.
//   - timestamp - timestamp is a duration; timestamp ± duration is a
//     timestamp; durations add, subtract, multiply and divide by numbers,
//     and duration / duration is a float. Timestamps and durations compare
//     with their own kind. A string literal compared with a timestamp is read
//     as a timestamp at compile time (t < '2016-01-02'), and with a duration
//     as a duration (t2 - t1 > '1h'); so are the members of an in list.
//   - Bools support ==, != and the logical operators; convert with int(b) to
//     do arithmetic.
//   - x in (a, b, ...) takes constants of x's type (ints and floats mix);
//     x not in (...) is its negation.
//
// # Nulls
//
// Nulls propagate through arithmetic, comparisons and functions: if any
// operand is null, so is the result. && and || follow SQL's three-valued
// logic: false && null is false, true || null is true, other combinations
// with null are null. Comparing with the null literal (x == null) is an
// error: use is_null(x). Besides is_null, coalesce and if, which are built
// for nulls, min and max skip nulls and clip treats a null bound as none.
// Math functions give null outside their domain (log of 0, sqrt of a
// negative) and where the result is not finite. [Program.Filter] keeps only
// the rows where the program is true: null counts as false.
//
// # Functions
//
// Timestamps are UTC. Parts are ints:
//
//	year(t timestamp) int
//	month(t timestamp) int         1 to 12
//	day(t timestamp) int           1 to 31
//	hour(t timestamp) int          0 to 23
//	minute(t timestamp) int        0 to 59
//	second(t timestamp) int        0 to 59, fractions dropped
//	day_of_week(t timestamp) int   Monday = 0 to Sunday = 6, like pandas dayofweek
//	day_of_year(t timestamp) int   1 to 366
//	week_of_year(t timestamp) int  ISO 8601 week, 1 to 53
//	date(t timestamp) timestamp    t truncated to midnight
//	timestamp(s string) timestamp  RFC 3339 ("2016-01-01T00:00:00Z"); the zone
//	                               defaults to UTC, the time to midnight, and a
//	                               space may replace the T. A literal must parse;
//	                               a column's unparsable values become null.
//
// Durations convert to float:
//
//	seconds(d duration) float
//	minutes(d duration) float
//	hours(d duration) float
//	days(d duration) float
//	duration(s string) duration    "90s", "1h30m" (units ns, us, ms, s, m, h)
//
// Math ("number" is int or float; "same" is the common type of the arguments):
//
//	abs(x int|float|duration) same
//	sqrt(x number) float               null for x < 0
//	log(x number) float                natural logarithm; null for x <= 0
//	log1p(x number) float              log(1 + x); null for x <= -1
//	exp(x number) float
//	pow(x number, y number) float
//	round(x number[, digits int]) float  half to even, like numpy
//	floor(x number) float
//	ceil(x number) float
//	min(a, b, ...) same                numbers, timestamps or durations
//	max(a, b, ...) same
//	clip(x, lo, hi) same
//
// Strings (positions count characters, that is code points):
//
//	lower(s string) string
//	upper(s string) string
//	length(s string) int
//	contains(s string, sub string) bool
//	starts_with(s string, sub string) bool
//	ends_with(s string, sub string) bool
//	substr(s string, start int, n int) string  0-based; a negative start counts from the end
//
// Conversions and nulls:
//
//	int(x) int             floats truncated towards zero, bools 0 or 1, strings
//	                       parsed; null when impossible
//	float(x) float         bools 0 or 1, strings parsed; null when impossible
//	string(x) string       as frame.Column.Str formats it
//	is_null(x) bool        never null
//	coalesce(a, b, ...) same  the first argument that is not null
//	if(cond bool, a, b) same  a where cond is true, b where false or null
package expr
