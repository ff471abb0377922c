// gRPC server reflection (v1 and v1alpha), so grpcurl and similar tools can discover the API.
import { toBinary, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionRequest, ServerReflectionResponse } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** Index of the served files: by file name and by every symbol they define, dependencies included. */
class DescriptorIndex {
  readonly byFile = new Map<string, DescFile>();
  readonly bySymbol = new Map<string, DescFile>();

  constructor(files: DescFile[]) {
    for (const f of files) this.add(f);
  }

  private add(file: DescFile): void {
    const name = file.proto.name;
    if (this.byFile.has(name)) return;
    this.byFile.set(name, file);
    const addMessage = (m: DescMessage) => {
      this.bySymbol.set(m.typeName, file);
      m.nestedMessages.forEach(addMessage);
      for (const e of m.nestedEnums) this.bySymbol.set(e.typeName, file);
    };
    file.messages.forEach(addMessage);
    for (const e of file.enums) this.bySymbol.set(e.typeName, file);
    for (const s of file.services) {
      this.bySymbol.set(s.typeName, file);
      for (const m of s.methods) this.bySymbol.set(`${s.typeName}.${m.name}`, file);
    }
    file.dependencies.forEach((d) => this.add(d));
  }

  /** The file and, transitively, its dependencies, as serialized FileDescriptorProtos. */
  closure(file: DescFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }
}

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

function answer(index: DescriptorIndex, services: string[], req: ServerReflectionRequest): Omit<ServerReflectionResponse, "$typeName" | "originalRequest"> {
  const r = req.messageRequest;
  const error = (code: number, message: string) => ({
    validHost: req.host,
    messageResponse: { case: "errorResponse" as const, value: { $typeName: "grpc.reflection.v1.ErrorResponse" as const, errorCode: code, errorMessage: message } },
  });
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? {
          validHost: req.host,
          messageResponse: {
            case: "fileDescriptorResponse" as const,
            value: { $typeName: "grpc.reflection.v1.FileDescriptorResponse" as const, fileDescriptorProto: index.closure(file) },
          },
        }
      : error(NOT_FOUND, `${what} not found`);
  switch (r.case) {
    case "listServices":
      return {
        validHost: req.host,
        messageResponse: {
          case: "listServicesResponse",
          value: {
            $typeName: "grpc.reflection.v1.ListServiceResponse",
            service: services.map((name) => ({ $typeName: "grpc.reflection.v1.ServiceResponse" as const, name })),
          },
        },
      };
    case "fileByFilename":
      return files(index.byFile.get(r.value), `file ${r.value}`);
    case "fileContainingSymbol":
      return files(index.bySymbol.get(r.value), `symbol ${r.value}`);
    case "allExtensionNumbersOfType":
      return index.bySymbol.has(r.value)
        ? {
            validHost: req.host,
            messageResponse: {
              case: "allExtensionNumbersResponse",
              value: { $typeName: "grpc.reflection.v1.ExtensionNumberResponse", baseTypeName: r.value, extensionNumber: [] },
            },
          }
        : error(NOT_FOUND, `type ${r.value} not found`);
    case "fileContainingExtension":
      return error(NOT_FOUND, "Hookwire defines no extensions");
    default:
      return error(UNIMPLEMENTED, "unknown reflection request");
  }
}

/** Both reflection versions share messages field for field, so one implementation serves both. */
export function reflectionServices(files: DescFile[], serviceNames: string[]) {
  const index = new DescriptorIndex(files);
  const impl = {
    async *serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>) {
      for await (const req of requests) yield { ...answer(index, serviceNames, req), originalRequest: req };
    },
  };
  return [
    [ReflectionV1, impl as ServiceImpl<typeof ReflectionV1>],
    [ReflectionV1alpha, impl as unknown as ServiceImpl<typeof ReflectionV1alpha>],
  ] as const;
}
