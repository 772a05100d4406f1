// The runtime every generated module imports, alone (see measure.ts).
import $protobuf from 'protobufjs/minimal.js'

console.log($protobuf.Reader.create(new Uint8Array(1)).uint32(), $protobuf.Writer.create().finish())
