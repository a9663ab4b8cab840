package eval

import (
	"strconv"
	"strings"
)

// Nouns writes n and the noun, in the plural unless n is 1 or -1: "1
// answer", "3 answers", "1 retry", "2 retries". A noun of several words
// has its last word made plural ("2 judge repairs").
func Nouns[N ~int | ~int64](n N, noun string) string {
	s := strconv.FormatInt(int64(n), 10) + " "
	if n == 1 || n == -1 {
		return s + noun
	}
	i := strings.LastIndexByte(noun, ' ') + 1
	return s + noun[:i] + Plural(noun[i:])
}

// Plural returns an English noun's plural form, for the nouns psveval
// counts (item, answer, judgment, retry, repair, error, request, ...).
func Plural(noun string) string {
	switch {
	case noun == "":
		return noun
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	}
	return noun + "s"
}
