// Imported first by the entry point. Without Object.prototype.__proto__, assigning obj["__proto__"]
// makes an own property, as JSON does, instead of replacing the prototype: libraries that copy
// user-chosen keys into plain objects (protobuf-es writing a Struct to JSON) then keep a "__proto__"
// key of a payload, and prototype pollution through such keys cannot happen. Node's
// --disable-proto=delete does the same, for a process started with it.
delete (Object.prototype as { __proto__?: unknown }).__proto__;
