package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"

	"app-server/protocol"
)

// A pool holds every definition reachable from the protocol's roots, in the
// published (draft-07) style, together with the Go type behind each name so
// that the TypeScript emitter can walk the same set.
type pool struct {
	defs  map[string]map[string]any // name -> schema
	types map[string]reflect.Type   // name -> Go type of the definition
	roots []string                  // names of the root types
}

var (
	requestIDType  = reflect.TypeFor[protocol.RequestID]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	unionType      = reflect.TypeFor[protocol.Union]()
	enumType       = reflect.TypeFor[protocol.Enum]()
)

// renames maps Go type names to the definition names of the published
// schema where the two differ. An entry that no reachable type uses is an
// error (see checkRenames), so the table cannot rot.
var renames = map[string]string{
	"RequestID": "RequestId",
	// protocol.Error is the error object of a JSON-RPC error response; the
	// published schema calls it JSONRPCErrorError, and a TypeScript type named
	// Error would shadow the global one.
	"Error": "JSONRPCErrorError",
}

// defName is the definition name of Go type t.
func defName(t reflect.Type) string {
	if n, ok := renames[t.Name()]; ok {
		return n
	}
	return t.Name()
}

// protocolRoots lists the types every file is generated from: the params and
// results of every method, the JSON-RPC envelope and the request id.
func protocolRoots() []reflect.Type {
	var roots []reflect.Type
	for _, m := range protocol.Methods {
		if !isEmptyNotification(m) {
			roots = append(roots, m.Params)
		}
		if m.Result != nil {
			roots = append(roots, m.Result)
		}
	}
	return append(roots,
		reflect.TypeFor[protocol.JSONRPCRequest](),
		reflect.TypeFor[protocol.JSONRPCNotification](),
		reflect.TypeFor[protocol.JSONRPCResponse](),
		reflect.TypeFor[protocol.JSONRPCError](),
		reflect.TypeFor[protocol.Error](),
		requestIDType,
	)
}

// isEmptyNotification reports whether m is a notification whose params type
// has no fields. Such a notification is written without params, as the
// published schema writes "initialized".
func isEmptyNotification(m protocol.Method) bool {
	return (m.Direction == protocol.ClientNotification || m.Direction == protocol.ServerNotification) &&
		m.Params.Kind() == reflect.Struct && m.Params.NumField() == 0
}

// builder reflects Go types into a pool.
type builder struct {
	r        *jsonschema.Reflector
	comments map[string]string         // fully qualified Go name -> description
	raw      map[string]map[string]any // invopop's output, as generic JSON
	types    map[string]reflect.Type
	custom   []reflect.Type // unions, enums and RequestID met so far, in order
	renamed  map[string]bool
}

// buildPool reflects roots and everything they reach into one pool.
// comments maps "app-server/protocol.Type" and "app-server/protocol.Type.Field"
// to descriptions; it may be nil. It panics if two different Go types would
// share a definition name.
func buildPool(roots []reflect.Type, comments map[string]string) (*pool, error) {
	b := &builder{
		comments: comments,
		raw:      map[string]map[string]any{},
		types:    map[string]reflect.Type{},
		renamed:  map[string]bool{},
	}
	b.r = &jsonschema.Reflector{
		Anonymous:                 true,
		AllowAdditionalProperties: true,
		Namer:                     b.name,
		Mapper:                    b.mapType,
		CommentMap:                comments,
	}

	for _, t := range roots {
		if err := b.reflect(t); err != nil {
			return nil, err
		}
	}
	// Unions reach their payload types, which may reach more unions.
	for i := 0; i < len(b.custom); i++ {
		t := b.custom[i]
		if !implementsUnion(t) {
			continue
		}
		for _, v := range variantsOf(t) {
			if v.Payload == nil {
				continue
			}
			if err := b.reflect(reflect.TypeOf(v.Payload)); err != nil {
				return nil, err
			}
		}
	}

	for name, def := range b.raw {
		if t := b.types[name]; t != nil && t.Kind() == reflect.Struct && !isCustom(t) {
			b.fixStruct(def, t)
		}
	}
	for _, t := range b.custom {
		def, err := b.customDef(t)
		if err != nil {
			return nil, err
		}
		b.raw[defName(t)] = def
	}
	if err := b.checkRenames(); err != nil {
		return nil, err
	}

	p := &pool{defs: map[string]map[string]any{}, types: map[string]reflect.Type{}}
	for _, t := range roots {
		p.roots = append(p.roots, defName(t))
	}
	// Keep only what the roots reach: union payload structs are inlined into
	// their variants and need no definition of their own.
	for _, name := range reachable(b.raw, p.roots) {
		def := b.raw[name]
		rewriteRefs(def)
		p.defs[name] = def
		p.types[name] = b.types[name]
	}
	return p, nil
}

// reflect runs invopop on t and merges its definitions into b.raw.
func (b *builder) reflect(t reflect.Type) error {
	s := b.r.ReflectFromType(t)
	for name, d := range s.Definitions {
		if _, done := b.raw[name]; done {
			continue
		}
		g, err := toGeneric(d)
		if err != nil {
			return fmt.Errorf("schema: %s: %w", name, err)
		}
		m, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("schema: definition %s is not an object schema", name)
		}
		b.raw[name] = m
	}
	return nil
}

// register records that definition name stands for Go type t and panics if
// it already stands for another type.
func (b *builder) register(name string, t reflect.Type) {
	if old, ok := b.types[name]; ok && old != t {
		panic(fmt.Sprintf("schema: definition name %q is used by two Go types: %s and %s",
			name, qualifiedName(old), qualifiedName(t)))
	}
	b.types[name] = t
	if _, ok := renames[t.Name()]; ok {
		b.renamed[t.Name()] = true
	}
}

// name is the Reflector's Namer: it gives struct definitions their names.
func (b *builder) name(t reflect.Type) string {
	if t.Name() == "" {
		return ""
	}
	n := defName(t)
	if t.Kind() == reflect.Struct {
		b.register(n, t)
	}
	return n
}

// mapType is the Reflector's Mapper. Unions, enums and RequestID become
// references to definitions built by customDef; integers get the format of
// their Go size. Everything else is left to invopop.
func (b *builder) mapType(t reflect.Type) *jsonschema.Schema {
	if isCustom(t) {
		n := defName(t)
		if !slices.Contains(b.custom, t) {
			b.register(n, t)
			b.custom = append(b.custom, t)
		}
		return &jsonschema.Schema{Ref: "#/$defs/" + n}
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &jsonschema.Schema{Type: "integer", Format: intFormat(t)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &jsonschema.Schema{Type: "integer", Format: intFormat(t), Minimum: json.Number("0")}
	}
	return nil
}

// intFormat is the published format of an integer kind: "int64", "uint16"...
func intFormat(t reflect.Type) string {
	return t.Kind().String()
}

func isCustom(t reflect.Type) bool {
	return t == requestIDType || implementsUnion(t) || implementsEnum(t)
}

func implementsUnion(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && (t.Implements(unionType) || reflect.PointerTo(t).Implements(unionType))
}

func implementsEnum(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && (t.Implements(enumType) || reflect.PointerTo(t).Implements(enumType))
}

func variantsOf(t reflect.Type) []protocol.Variant {
	return reflect.New(t).Interface().(protocol.Union).Variants()
}

func unionKindOf(t reflect.Type) protocol.UnionKind {
	return reflect.New(t).Interface().(protocol.Union).UnionKind()
}

func enumValuesOf(t reflect.Type) []string {
	return reflect.New(t).Interface().(protocol.Enum).EnumValues()
}

func qualifiedName(t reflect.Type) string {
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

// typeDoc is the description of Go type t.
func (b *builder) typeDoc(t reflect.Type) string {
	return b.comments[qualifiedName(t)]
}

func (b *builder) checkRenames() error {
	var unused []string
	for from := range renames {
		if !b.renamed[from] {
			unused = append(unused, from)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return fmt.Errorf("schema: rename entries for unknown types: %s", strings.Join(unused, ", "))
	}
	return nil
}

// A field is one JSON member of a struct, after flattening embedded structs.
type field struct {
	owner    reflect.Type // the struct declaring it, for its doc comment
	goName   string
	name     string // JSON name
	typ      reflect.Type
	optional bool // json omitempty (or omitzero): the member may be absent
	required bool // the schema lists it as required
	nullable bool // null is a valid value
}

// fieldsOf lists the JSON members of struct type t in declaration order,
// inlining embedded structs. The rules are those of protocol/doc.go:
//   - a pointer is nullable;
//   - a member is required when it is not a pointer and has no omitempty, or
//     when it is tagged jsonschema:"required";
//   - an omitempty slice or map is nullable (and not required); with
//     omitzero instead it is optional but never null.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, fieldsOf(et)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		ptr := f.Type.Kind() == reflect.Pointer
		container := (f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map) && f.Type != rawMessageType
		out = append(out, field{
			owner:    t,
			goName:   f.Name,
			name:     name,
			typ:      f.Type,
			optional: optional,
			required: (!ptr && !optional) || slices.Contains(strings.Split(f.Tag.Get("jsonschema"), ","), "required"),
			nullable: ptr || (hasOpt(opts, "omitempty") && container),
		})
	}
	return out
}

func hasOpt(opts, want string) bool {
	return slices.Contains(strings.Split(opts, ","), want)
}

// fixStruct rewrites invopop's schema of struct t into the published style.
func (b *builder) fixStruct(def map[string]any, t reflect.Type) {
	props, _ := def["properties"].(map[string]any)
	var required []string
	for _, f := range fieldsOf(t) {
		p, ok := props[f.name]
		if !ok {
			panic(fmt.Sprintf("schema: %s.%s: invopop produced no property %q", t.Name(), f.goName, f.name))
		}
		props[f.name] = fixProperty(p, f)
		if f.required {
			required = append(required, f.name)
		}
	}
	if len(props) == 0 {
		delete(def, "properties")
	}
	delete(def, "required")
	if len(required) > 0 {
		slices.Sort(required)
		def["required"] = toAnySlice(required)
	}
}

// fixProperty applies the Go type's nullability to a property schema and
// moves a description off a bare $ref (where draft-07 would ignore it).
func fixProperty(p any, f field) any {
	m, ok := p.(map[string]any)
	if !ok { // true: any value (json.RawMessage)
		return p
	}
	desc, hasDesc := m["description"]
	delete(m, "description")
	out := applyNull(m, f.typ)
	if f.nullable && f.typ.Kind() != reflect.Pointer {
		out = nullable(out)
	}
	if hasDesc && desc != "" {
		if _, isRef := out["$ref"]; isRef {
			out = map[string]any{"allOf": []any{out}}
		}
		out["description"] = desc
	}
	return out
}

// applyNull makes the parts of s that correspond to pointers in t nullable.
func applyNull(s map[string]any, t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(applyNull(s, t.Elem()))
	case reflect.Slice:
		if t == rawMessageType {
			return s
		}
		if items, ok := s["items"].(map[string]any); ok {
			s["items"] = applyNull(items, t.Elem())
		}
	case reflect.Map:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			s["additionalProperties"] = applyNull(ap, t.Elem())
		}
	}
	return s
}

// nullable returns s accepting null too: ["T","null"] for a primitive type,
// anyOf [s, null] otherwise.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		s["type"] = []any{typ, "null"}
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// customDef builds the definition of a union, an enum or RequestID.
func (b *builder) customDef(t reflect.Type) (map[string]any, error) {
	var def map[string]any
	switch {
	case t == requestIDType:
		def = map[string]any{"anyOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "integer", "format": "int64"},
		}}
	case implementsUnion(t):
		var variants []any
		for _, v := range variantsOf(t) {
			vs, err := b.variantSchema(t, v)
			if err != nil {
				return nil, err
			}
			variants = append(variants, vs)
		}
		def = map[string]any{"oneOf": variants}
	case implementsEnum(t):
		def = map[string]any{"type": "string", "enum": toAnySlice(enumValuesOf(t))}
	}
	if d := b.typeDoc(t); d != "" {
		def["description"] = d
	}
	return def, nil
}

// payloadSchema returns the processed object schema of a variant's payload,
// without its title and description, or an empty object schema for nil.
func (b *builder) payloadSchema(payload any) (map[string]any, error) {
	out := map[string]any{"type": "object"}
	if payload == nil {
		return out, nil
	}
	pt := reflect.TypeOf(payload)
	def, ok := b.raw[defName(pt)]
	if !ok || b.types[defName(pt)] != pt {
		return nil, fmt.Errorf("schema: union payload %s was not reflected", qualifiedName(pt))
	}
	def = deepCopy(def).(map[string]any)
	for _, k := range []string{"properties", "required"} {
		if v, ok := def[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

func (b *builder) variantSchema(union reflect.Type, v protocol.Variant) (map[string]any, error) {
	desc := v.Description
	if desc == "" && v.Payload != nil {
		desc = b.typeDoc(reflect.TypeOf(v.Payload))
	}
	var out map[string]any
	switch unionKindOf(union) {
	case protocol.TaggedUnion:
		if v.Title == "" {
			return nil, fmt.Errorf("schema: %s variant %q has no title", union.Name(), v.Tag)
		}
		out, err := b.payloadSchema(v.Payload)
		if err != nil {
			return nil, err
		}
		props, _ := out["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		if _, clash := props["type"]; clash {
			return nil, fmt.Errorf("schema: %s variant %q has its own member \"type\"", union.Name(), v.Tag)
		}
		props["type"] = map[string]any{"enum": []any{v.Tag}, "title": v.Title + "Type", "type": "string"}
		out["properties"] = props
		req := []string{"type"}
		if r, ok := out["required"].([]any); ok {
			for _, s := range r {
				req = append(req, s.(string))
			}
		}
		slices.Sort(req)
		out["required"] = toAnySlice(req)
		out["title"] = v.Title
		if desc != "" {
			out["description"] = desc
		}
		return out, nil
	case protocol.ExternallyTaggedUnion:
		if v.Payload == nil {
			out = map[string]any{"enum": []any{v.Tag}, "type": "string"}
		} else {
			if v.Title == "" {
				return nil, fmt.Errorf("schema: %s variant %q has no title", union.Name(), v.Tag)
			}
			inner, err := b.payloadSchema(v.Payload)
			if err != nil {
				return nil, err
			}
			out = map[string]any{
				"additionalProperties": false,
				"properties":           map[string]any{v.Tag: inner},
				"required":             []any{v.Tag},
				"title":                v.Title,
				"type":                 "object",
			}
		}
		if desc != "" {
			out["description"] = desc
		}
		return out, nil
	}
	return nil, fmt.Errorf("schema: %s: unknown union kind %d", union.Name(), unionKindOf(union))
}

// toGeneric converts an invopop schema into plain maps, slices and numbers.
func toGeneric(s *jsonschema.Schema) (any, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	return g, nil
}

// refsOf appends to dst the definition names that schema node s refers to.
func refsOf(s any, dst map[string]bool) {
	switch v := s.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "$ref" {
				if ref, ok := x.(string); ok {
					dst[refName(ref)] = true
				}
				continue
			}
			refsOf(x, dst)
		}
	case []any:
		for _, x := range v {
			refsOf(x, dst)
		}
	}
}

func refName(ref string) string {
	for _, prefix := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			return name
		}
	}
	panic("schema: unexpected $ref " + ref)
}

// reachable returns, sorted, the names of defs reachable from roots.
func reachable(defs map[string]map[string]any, roots []string) []string {
	seen := map[string]bool{}
	todo := slices.Clone(roots)
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[n] {
			continue
		}
		def, ok := defs[n]
		if !ok {
			panic("schema: reference to missing definition " + n)
		}
		seen[n] = true
		refs := map[string]bool{}
		refsOf(def, refs)
		for r := range refs {
			todo = append(todo, r)
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// rewriteRefs turns invopop's "#/$defs/X" into draft-07 "#/definitions/X".
func rewriteRefs(s any) {
	switch v := s.(type) {
	case map[string]any:
		for k, x := range v {
			if ref, ok := x.(string); ok && k == "$ref" {
				v[k] = "#/definitions/" + refName(ref)
				continue
			}
			rewriteRefs(x)
		}
	case []any:
		for _, x := range v {
			rewriteRefs(x)
		}
	}
}

func deepCopy(s any) any {
	switch v := s.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return s
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
