package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// This file holds the structural comparison behind TestCompatWithCodex: is
// a published definition ("theirs") covered by ours? It reads both sides as
// plain JSON and normalizes the published draft-07 idioms before comparing.

// travel says which way a definition travels, which decides what
// "compatible" means where the two sides may differ in width:
//
//   - toClient (server to client): what we send must validate against
//     theirs, so ours may be narrower (non-null where theirs is nullable)
//     but never wider (nullable, an extra enum value or union member, a base
//     type theirs lacks).
//   - toServer (client to server): what a Codex client sends must be
//     accepted by ours, so ours may be wider but never narrower, and may not
//     require what theirs leaves optional.
//   - bothWays: the two rules together.
//
// Either way every property, enum value, union member and (toClient)
// required entry of theirs must be in ours, unless notModeled says why not.
type travel int

const (
	toClient travel = 1 << iota
	toServer
	bothWays = toClient | toServer
)

func (f travel) String() string {
	switch f {
	case toClient:
		return "toClient"
	case toServer:
		return "toServer"
	}
	return "bothWays"
}

// schemaDoc is one JSON Schema file; references resolve inside it.
type schemaDoc struct {
	file string
	root map[string]any
}

func loadDoc(path string) (*schemaDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &schemaDoc{file: path, root: root}, nil
}

// resolve follows a local reference ("#/definitions/X", also nested
// pointers such as "#/definitions/v2/X").
func (d *schemaDoc) resolve(ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%s: non-local $ref %q", d.file, ref)
	}
	var cur any = d.root
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: $ref %q does not resolve", d.file, ref)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s: $ref %q does not resolve", d.file, ref)
		}
	}
	return cur, nil
}

// schemaSet finds a named definition on one side: the file of that name
// (in dir or one of subdirs) when there is one, else the first file, in
// sorted order, whose definitions hold the name.
type schemaSet struct {
	dir     string
	subdirs []string // searched after dir, e.g. "v2", "v1"
	docs    map[string]*schemaDoc
}

func newSchemaSet(dir string, subdirs ...string) *schemaSet {
	return &schemaSet{dir: dir, subdirs: subdirs, docs: map[string]*schemaDoc{}}
}

func (s *schemaSet) doc(path string) (*schemaDoc, error) {
	if d, ok := s.docs[path]; ok {
		return d, nil
	}
	d, err := loadDoc(path)
	if err != nil {
		return nil, err
	}
	s.docs[path] = d
	return d, nil
}

func (s *schemaSet) dirs() []string {
	ds := []string{s.dir}
	for _, sub := range s.subdirs {
		ds = append(ds, filepath.Join(s.dir, sub))
	}
	return ds
}

// lookup returns the definition named name and the document it lives in.
func (s *schemaSet) lookup(name string) (*schemaDoc, any, error) {
	for _, dir := range s.dirs() {
		p := filepath.Join(dir, name+".json")
		if _, err := os.Stat(p); err == nil {
			d, err := s.doc(p)
			if err != nil {
				return nil, nil, err
			}
			return d, d.root, nil
		}
	}
	for _, dir := range s.dirs() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		sort.Strings(files)
		for _, p := range files {
			d, err := s.doc(p)
			if err != nil {
				return nil, nil, err
			}
			if defs, ok := d.root["definitions"].(map[string]any); ok {
				if def, ok := defs[name]; ok {
					return d, def, nil
				}
			}
		}
	}
	return nil, nil, fmt.Errorf("no definition %s in %s", name, s.dir)
}

// shape is a schema node with references, single-element allOf wrappers and
// null alternatives resolved away.
type shape struct {
	def      string // last definition name passed through, if any
	title    string
	nullable bool
	any      bool            // accepts anything (true, {})
	types    map[string]bool // base types other than "null"
	enum     []string        // string enum values, nil if not an enum
	props    map[string]any  // property schemas (unresolved)
	required map[string]bool
	closed   bool  // additionalProperties: false
	items    any   // array item schema (unresolved)
	variants []any // union members other than null (unresolved), len >= 2
	// alts are the anyOf/oneOf members of an object that also has its own
	// properties: extra constraints, one of which must hold (the published
	// ImageUserInput is {type, detail} and one of {url} or {fileId}).
	alts []any
}

func (s *shape) isUnion() bool { return len(s.variants) > 0 }

// normalize resolves n (a schema node of d) into a shape.
func normalize(d *schemaDoc, n any) (*shape, error) {
	sh := &shape{types: map[string]bool{}, required: map[string]bool{}}
	for range 64 {
		if b, ok := n.(bool); ok {
			sh.any = b
			return sh, nil
		}
		m, ok := n.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: schema node is %T", d.file, n)
		}
		if ref, ok := m["$ref"].(string); ok {
			next, err := d.resolve(ref)
			if err != nil {
				return nil, err
			}
			sh.def = ref[strings.LastIndex(ref, "/")+1:]
			n = next
			continue
		}
		if all, ok := m["allOf"].([]any); ok {
			if len(all) != 1 {
				return nil, fmt.Errorf("%s: allOf with %d members is not supported", d.file, len(all))
			}
			n = all[0]
			continue
		}
		var alts []any
		for _, k := range []string{"oneOf", "anyOf"} {
			if a, ok := m[k].([]any); ok {
				alts = append(alts, a...)
			}
		}
		_, ownProps := m["properties"]
		if len(alts) > 0 && !ownProps {
			var rest []any
			for _, a := range alts {
				if isNull(a) {
					sh.nullable = true
				} else {
					rest = append(rest, a)
				}
			}
			if len(rest) == 1 {
				n = rest[0]
				continue
			}
			sh.variants = rest
			return sh, nil
		}
		sh.title, _ = m["title"].(string)
		switch t := m["type"].(type) {
		case string:
			addType(sh, t)
		case []any:
			for _, x := range t {
				if s, ok := x.(string); ok {
					addType(sh, s)
				}
			}
		}
		if e, ok := m["enum"].([]any); ok {
			sh.enum = []string{}
			for _, v := range e {
				switch v := v.(type) {
				case nil:
					sh.nullable = true
				case string:
					sh.enum = append(sh.enum, v)
				default:
					return nil, fmt.Errorf("%s: non-string enum value %v", d.file, v)
				}
			}
			sh.types["string"] = true
		}
		if c, ok := m["const"].(string); ok {
			sh.enum = []string{c}
			sh.types["string"] = true
		}
		if p, ok := m["properties"].(map[string]any); ok {
			sh.props = p
			sh.types["object"] = true
		}
		if r, ok := m["required"].([]any); ok {
			for _, x := range r {
				if s, ok := x.(string); ok {
					sh.required[s] = true
				}
			}
		}
		if ap, ok := m["additionalProperties"].(bool); ok && !ap {
			sh.closed = true
		}
		if it, ok := m["items"]; ok {
			sh.items = it
			sh.types["array"] = true
		}
		if len(alts) > 0 {
			// An object with its own properties and alternatives: a union
			// whose members share those properties when the alternatives
			// are tagged (the published ThreadItem has startedAtMs and
			// completedAtMs beside its oneOf), else constraints.
			tagged := false
			for _, a := range alts {
				as, err := normalize(d, a)
				if err != nil {
					return nil, err
				}
				tagged = tagged || strings.Contains(variantKey(d, as), "=")
			}
			if tagged {
				sh.variants = alts
			} else {
				sh.alts = alts
			}
		}
		if len(sh.types) == 0 {
			sh.any = true
		}
		return sh, nil
	}
	return nil, fmt.Errorf("%s: reference loop", d.file)
}

func addType(sh *shape, t string) {
	if t == "null" {
		sh.nullable = true
	} else {
		sh.types[t] = true
	}
}

func isNull(n any) bool {
	m, ok := n.(map[string]any)
	return ok && m["type"] == "null" && len(m) <= 2 // {type: null} maybe with a description
}

func typeList(s *shape) string {
	if s.isUnion() {
		return "a union"
	}
	if s.any {
		return "anything"
	}
	return strings.Join(slices.Sorted(maps.Keys(s.types)), "|")
}

// side is one schema node to compare, with its document.
type side struct {
	doc  *schemaDoc
	node any
}

// pos is where a comparison stands: path is the full JSON path from the
// root definition (for messages), loc the path from the nearest enclosing
// definition ("ThreadItem<type=agentMessage>.phase"), which is how the
// notModeled list names places. "<key>" selects a union member (see
// variantKey), ".name" a property, "[]" array items.
type pos struct{ path, loc string }

func (p pos) prop(name string) pos { return pos{p.path + "." + name, p.loc + "." + name} }
func (p pos) member(key string) pos {
	return pos{p.path + "<" + key + ">", p.loc + "<" + key + ">"}
}
func (p pos) items() pos { return pos{p.path + "[]", p.loc + "[]"} }

// comparer walks theirs and ours together and collects problems.
type comparer struct {
	theirs, ours *schemaSet
	// notModeled: differences we accept on purpose, keyed by location
	// (pos.loc), optionally followed by " nullable" for a nullability
	// difference.
	notModeled map[string]string
	usedNM     map[string]bool

	visited  map[string]bool // "<their def>|<our def>|<travel>"
	defs     map[string]bool // their definitions checked
	props    int             // properties compared
	problems []string
}

func newComparer(theirs, ours *schemaSet, notModeled map[string]string) *comparer {
	return &comparer{
		theirs: theirs, ours: ours, notModeled: notModeled,
		usedNM: map[string]bool{}, visited: map[string]bool{}, defs: map[string]bool{},
	}
}

func (c *comparer) fail(p pos, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%s: %s [at %s]", p.path, fmt.Sprintf(format, args...), p.loc))
}

// allowed reports whether key is in the notModeled list (and notes its use).
func (c *comparer) allowed(key string) bool {
	if _, ok := c.notModeled[key]; ok {
		c.usedNM[key] = true
		return true
	}
	return false
}

// missing reports a thing of theirs that ours lacks, unless allowed.
func (c *comparer) missing(p pos, format string, args ...any) {
	if !c.allowed(p.loc) {
		c.fail(p, format+" (not in the notModeled list)", args...)
	}
}

// checkDefinition compares their definition name with ours of the same name.
func (c *comparer) checkDefinition(name string, f travel) {
	td, tn, err := c.theirs.lookup(name)
	p := pos{name, name}
	if err != nil {
		c.fail(p, "published side: %v", err)
		return
	}
	od, on, err := c.ours.lookup(name)
	if err != nil {
		c.fail(p, "missing in ours: %v", err)
		return
	}
	c.defs[name] = true
	c.compare(p, side{td, tn}, side{od, on}, f)
}

func (c *comparer) compare(p pos, t, o side, f travel) {
	their, err := normalize(t.doc, t.node)
	if err != nil {
		c.fail(p, "published side: %v", err)
		return
	}
	our, err := normalize(o.doc, o.node)
	if err != nil {
		c.fail(p, "our side: %v", err)
		return
	}
	c.compareResolved(p, their, our, t.doc, o.doc, f)
}

// compareResolved compares two normalized shapes, once per pair of
// definitions and direction.
func (c *comparer) compareResolved(p pos, their, our *shape, td, od *schemaDoc, f travel) {
	// Nullability belongs to the place that refers to a definition.
	switch {
	case their.nullable && !our.nullable && f&toServer != 0:
		if !c.allowed(p.loc + " nullable") {
			c.fail(p, "published type is nullable, ours is not (a Codex client may send null)")
		}
	case !their.nullable && our.nullable && f&toClient != 0:
		if !c.allowed(p.loc + " nullable") {
			c.fail(p, "ours is nullable, the published type is not (we may send null)")
		}
	}
	if their.def != "" {
		key := their.def + "|" + our.def + "|" + f.String()
		if c.visited[key] {
			return
		}
		c.visited[key] = true
		c.defs[their.def] = true
		p.loc = their.def
	}
	c.compareShapes(p, their, our, td, od, f)
}

func (c *comparer) compareShapes(p pos, their, our *shape, td, od *schemaDoc, f travel) {
	if our.any {
		return // ours accepts anything: nothing to lose
	}
	if their.any {
		if f&toServer != 0 {
			c.fail(p, "published type accepts anything, ours is %s", typeList(our))
		}
		return
	}
	if their.isUnion() || our.isUnion() {
		c.compareUnions(p, their, our, td, od, f)
		return
	}
	c.compareTypes(p, their, our, f)
	c.compareEnums(p, their.enum, our.enum, f)
	if their.types["object"] && our.types["object"] {
		c.compareObjects(p, their, our, td, od, f)
	}
	if their.items != nil && our.items != nil {
		c.compare(p.items(), side{td, their.items}, side{od, our.items}, f)
	}
}

// compareTypes compares base types; an integer is also a number.
func (c *comparer) compareTypes(p pos, their, our *shape, f travel) {
	covers := func(set map[string]bool, t string) bool {
		return set[t] || (t == "integer" && set["number"])
	}
	for t := range their.types {
		if !covers(our.types, t) && f&toServer != 0 {
			c.fail(p, "published type %s, ours %s", typeList(their), typeList(our))
			return
		}
	}
	for t := range our.types {
		if !covers(their.types, t) && f&toClient != 0 {
			c.fail(p, "ours is %s, the published type is %s", typeList(our), typeList(their))
			return
		}
	}
}

func (c *comparer) compareEnums(p pos, te, oe []string, f travel) {
	switch {
	case te == nil && oe == nil:
		return
	case te == nil:
		if f&toServer != 0 {
			c.fail(p, "published type is any string, ours only %q", oe)
		}
		return
	case oe == nil:
		if f&toClient != 0 {
			c.fail(p, "published type allows only %q, ours any string", te)
		}
		return
	}
	for _, v := range te {
		if !slices.Contains(oe, v) {
			c.missing(p.member(v), "enum value %q missing in ours (ours: %q)", v, oe)
		}
	}
	if f&toClient != 0 {
		for _, v := range oe {
			if !slices.Contains(te, v) {
				c.fail(p, "we may send enum value %q, which the published type lacks", v)
			}
		}
	}
}

func (c *comparer) compareObjects(p pos, their, our *shape, td, od *schemaDoc, f travel) {
	for _, name := range slices.Sorted(maps.Keys(their.props)) {
		pp := p.prop(name)
		on, ok := our.props[name]
		if !ok {
			c.missing(pp, "property missing in ours")
			continue
		}
		c.props++
		c.compare(pp, side{td, their.props[name]}, side{od, on}, f)
	}
	for _, name := range slices.Sorted(maps.Keys(their.required)) {
		if !our.required[name] && f&toClient != 0 {
			c.fail(p, "published type requires %q, ours does not", name)
		}
	}
	altRequired := c.compareAlternatives(p, their, our, td, od, f)
	for _, name := range slices.Sorted(maps.Keys(our.required)) {
		if !their.required[name] && !altRequired[name] && f&toServer != 0 {
			c.fail(p, "ours requires %q, the published type does not (a Codex client may leave it out)", name)
		}
	}
	if their.closed && f&toClient != 0 {
		for _, name := range slices.Sorted(maps.Keys(our.props)) {
			if _, ok := their.props[name]; !ok {
				c.fail(p, "ours adds %q but the published type allows no additional properties", name)
			}
		}
	}
}

// compareAlternatives checks the anyOf/oneOf constraints of a published
// object (see shape.alts). Each alternative is named "{required...}"; one we
// do not model must be in the notModeled list. What we send must satisfy one
// of the alternatives. It returns the properties every modelled alternative
// requires, which ours may require too.
func (c *comparer) compareAlternatives(p pos, their, our *shape, td, od *schemaDoc, f travel) map[string]bool {
	if len(their.alts) == 0 {
		return nil
	}
	var common map[string]bool
	satisfied := false
	for _, a := range their.alts {
		as, err := normalize(td, a)
		if err != nil {
			c.fail(p, "published side: %v", err)
			continue
		}
		key := "{" + strings.Join(slices.Sorted(maps.Keys(as.required)), ",") + "}"
		ap := p.member(key)
		have := true
		for name := range as.props {
			if _, ok := our.props[name]; !ok {
				have = false
			}
		}
		if !have {
			c.missing(ap, "alternative %s missing in ours", key)
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(as.props)) {
			c.props++
			c.compare(ap.prop(name), side{td, as.props[name]}, side{od, our.props[name]}, f)
		}
		ok := true
		for name := range as.required {
			ok = ok && our.required[name]
		}
		satisfied = satisfied || ok
		if common == nil {
			common = maps.Clone(as.required)
		} else {
			maps.DeleteFunc(common, func(k string, _ bool) bool { return !as.required[k] })
		}
	}
	if !satisfied && f&toClient != 0 {
		c.fail(p, "ours requires none of the published alternatives %s", altKeys(td, their.alts))
	}
	return common
}

func altKeys(d *schemaDoc, alts []any) string {
	var keys []string
	for _, a := range alts {
		if as, err := normalize(d, a); err == nil {
			keys = append(keys, "{"+strings.Join(slices.Sorted(maps.Keys(as.required)), ",")+"}")
		}
	}
	return strings.Join(keys, " | ")
}

// A union is compared member by member. Every shape is seen as a list of
// members (a non-union is a list of one); string enum members are pooled
// into one set of values, and the others are keyed by variantKey.
type variant struct {
	key   string
	shape *shape
}

func variants(s *shape, d *schemaDoc) (vs []variant, enum []string, err error) {
	add := func(sh *shape) {
		if sh.enum != nil && sh.types["string"] && len(sh.types) == 1 {
			enum = append(enum, sh.enum...)
			return
		}
		vs = append(vs, variant{key: variantKey(d, sh), shape: sh})
	}
	if !s.isUnion() {
		add(s)
		return vs, enum, nil
	}
	for _, n := range s.variants {
		sh, err := normalize(d, n)
		if err != nil {
			return nil, nil, err
		}
		if len(s.props) > 0 { // members share the union's own properties
			sh.props = maps.Clone(sh.props)
			for k, v := range s.props {
				if _, ok := sh.props[k]; !ok {
					sh.props[k] = v
				}
			}
			for k := range s.required {
				sh.required[k] = true
			}
			sh.types["object"] = true
		}
		if sh.isUnion() { // nested union: flatten
			sub, e, err := variants(sh, d)
			if err != nil {
				return nil, nil, err
			}
			vs, enum = append(vs, sub...), append(enum, e...)
			continue
		}
		add(sh)
	}
	return vs, enum, nil
}

// variantKey names a union member: "type=commandExecution" for a member
// tagged by a required single-value enum property, "{granular}" for an
// externally tagged member (one required property, no tag), else its base
// types ("object|string").
func variantKey(d *schemaDoc, s *shape) string {
	if s.types["object"] && len(s.types) == 1 {
		for _, tag := range append([]string{"type", "method"}, slices.Sorted(maps.Keys(s.required))...) {
			if !s.required[tag] {
				continue
			}
			if ps, err := normalize(d, s.props[tag]); err == nil && len(ps.enum) == 1 {
				return tag + "=" + ps.enum[0]
			}
		}
		if len(s.required) == 1 {
			for r := range s.required {
				return "{" + r + "}"
			}
		}
	}
	return typeList(s)
}

func (c *comparer) compareUnions(p pos, their, our *shape, td, od *schemaDoc, f travel) {
	tv, te, err := variants(their, td)
	if err != nil {
		c.fail(p, "published side: %v", err)
		return
	}
	ov, oe, err := variants(our, od)
	if err != nil {
		c.fail(p, "our side: %v", err)
		return
	}
	for _, v := range te {
		if !slices.Contains(oe, v) {
			c.missing(p.member(v), "string value %q missing in ours (ours: %q)", v, oe)
		}
	}
	if f&toClient != 0 {
		for _, v := range oe {
			if !slices.Contains(te, v) {
				c.fail(p, "we may send %q, which the published type lacks", v)
			}
		}
	}
	ours := map[string]variant{}
	for _, v := range ov {
		ours[v.key] = v
	}
	theirs := map[string]bool{}
	for _, v := range tv {
		theirs[v.key] = true
		vp := p.member(v.key)
		o, ok := ours[v.key]
		if !ok {
			c.missing(vp, "union member %s missing in ours", v.key)
			continue
		}
		c.compareResolved(vp, v.shape, o.shape, td, od, f)
	}
	if f&toClient != 0 {
		for _, v := range ov {
			if !theirs[v.key] {
				c.fail(p.member(v.key), "we may send union member %s, which the published type lacks", v.key)
			}
		}
	}
}
