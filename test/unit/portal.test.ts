// Portal sessions' input rules (domain/portal.ts), the theme's conversion from the API, and
// HOOKWIRE_PUBLIC_URL: each bad field refused by its name.
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { PortalColorScheme, PortalThemeSchema } from "@hookwire/sdk/proto";
import { refusal } from "../helpers/refusal.js";
import {
  isPortalToken,
  newPortalToken,
  NO_THEME,
  portalTokenDigest,
  validatePortalTheme,
  validatePortalTtl,
  type PortalTheme,
} from "../../server/domain/portal.js";
import { themeFromProto, themeToProto } from "../../server/api/convert.js";
import { ConfigError, loadConfig } from "../../server/config.js";

const theme = (fields: Partial<PortalTheme>): PortalTheme => ({ ...NO_THEME, ...fields });
/** A data: URL of exactly `bytes` characters. */
const dataUrl = (bytes: number, type = "png") => {
  const head = `data:image/${type};base64,`;
  return head + "A".repeat(bytes - head.length);
};

describe("tokens", () => {
  it('are "hwp_" and 43 base64url characters, each new, known by a SHA-256 digest', () => {
    const a = newPortalToken();
    const b = newPortalToken();
    expect(a).toMatch(/^hwp_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(isPortalToken(a)).toBe(true);
    expect(portalTokenDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(portalTokenDigest(a)).not.toBe(portalTokenDigest(b));
  });

  it.each([["hwp_short"], [`hwk_${"a".repeat(43)}`], [`hwp_${"a".repeat(44)}`], [`hwp_${"a".repeat(42)}=`], [`hwp_${"a".repeat(42)}/`], [""]])("%j is not a token's form", (t) => {
    expect(isPortalToken(t)).toBe(false);
  });
});

describe("ttl_seconds", () => {
  it("0 is the default hour; 1 to a day are taken as they are", () => {
    expect(validatePortalTtl(0n)).toBe(3600);
    expect(validatePortalTtl(1n)).toBe(1);
    expect(validatePortalTtl(86_400n)).toBe(86_400);
  });

  it.each([[-1n], [86_401n], [-(2n ** 63n)], [2n ** 63n - 1n]])("refuses %s naming the field and the range", (ttl) => {
    expect(refusal(() => validatePortalTtl(ttl))).toMatch(/^ttl_seconds: -?\d+ is outside 1\.\.86400 seconds \(0 for the default, 3600\)$/);
  });
});

describe("the theme", () => {
  it("takes the defaults, colours, https and data: image logos up to 32 KiB, titles up to 100 characters", () => {
    expect(validatePortalTheme(NO_THEME)).toEqual(NO_THEME);
    const good = [
      theme({ accentColor: "#0a0B9f" }),
      theme({ logoUrl: "https://cdn.platform.example/logo.svg?v=2#x" }),
      theme({ logoUrl: "https://127.0.0.1:8443/logo%20one.png" }),
      theme({ logoUrl: dataUrl(32 * 1024) }),
      theme({ logoUrl: "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" }),
      theme({ logoUrl: dataUrl(100, "webp") }),
      theme({ colorScheme: "dark", title: `Webhooks — ${"é".repeat(89)}` }),
    ];
    for (const t of good) expect(validatePortalTheme(t)).toEqual(t);
  });

  it.each([
    [{ accentColor: "red" }, /^theme\.accent_color: "red" is not a colour written "#rrggbb"/],
    [{ accentColor: "#abc" }, /^theme\.accent_color: /],
    [{ accentColor: "#12345g" }, /^theme\.accent_color: /],
    [{ accentColor: "#1234567" }, /^theme\.accent_color: /],
    [{ logoUrl: "http://cdn.example/logo.png" }, /^theme\.logo_url: must be an https: URL or a data:image/],
    [{ logoUrl: "javascript:alert(1)" }, /^theme\.logo_url: must be an https: URL/],
    [{ logoUrl: "logo.png" }, /^theme\.logo_url: must be an https: URL/],
    [{ logoUrl: "https://user:pw@cdn.example/logo.png" }, /^theme\.logo_url: must not contain credentials/],
    [{ logoUrl: 'https://cdn.example/a"b.png' }, /^theme\.logo_url: holds white space, a quote/],
    [{ logoUrl: "https://cdn.example/a b.png" }, /^theme\.logo_url: holds white space/],
    [{ logoUrl: `https://cdn.example/${"a".repeat(2048)}` }, /^theme\.logo_url: is longer than 2048 characters/],
    [{ logoUrl: "data:text/html;base64,PGgxPg==" }, /^theme\.logo_url: a data: URL must be data:image\/\(png\|jpeg\|gif\|webp\|svg\+xml\);base64,<base64>/],
    [{ logoUrl: "data:image/png,rawbytes" }, /^theme\.logo_url: a data: URL must be/],
    [{ logoUrl: "data:image/png;base64,not base64!" }, /^theme\.logo_url: a data: URL must be/],
    [{ logoUrl: dataUrl(32 * 1024 + 1) }, /^theme\.logo_url: is 32769 bytes, over the limit of 32768 bytes for a data: URL/],
    [{ title: "x".repeat(101) }, /^theme\.title: is longer than 100 characters/],
    [{ title: "bell\u0007" }, /^theme\.title: holds the unprintable character U\+0007/],
    [{ title: "a\u202eb" }, /^theme\.title: holds the unprintable character U\+202E/],
    [{ title: "\ud800" }, /^theme\.title: holds a lone surrogate/],
  ])("refuses %j naming the field", (fields, msg) => {
    expect(refusal(() => validatePortalTheme(theme(fields)))).toMatch(msg);
  });

  it("comes from the API's PortalTheme (unset: the defaults), its colour scheme by name, and back", () => {
    expect(themeFromProto(undefined)).toEqual(NO_THEME);
    const proto = create(PortalThemeSchema, { accentColor: "#112233", logoUrl: "https://cdn.example/l.png", colorScheme: PortalColorScheme.LIGHT, title: "T" });
    const domain = themeFromProto(proto);
    expect(domain).toEqual({ accentColor: "#112233", logoUrl: "https://cdn.example/l.png", colorScheme: "light", title: "T" });
    expect(themeToProto(domain)).toEqual(proto);
    expect(themeFromProto(create(PortalThemeSchema, { colorScheme: PortalColorScheme.DARK })).colorScheme).toBe("dark");
    expect(refusal(() => themeFromProto(create(PortalThemeSchema, { colorScheme: 7 as PortalColorScheme })))).toMatch(/^theme\.color_scheme: 7 is not a known colour scheme/);
  });
});

describe("HOOKWIRE_PUBLIC_URL", () => {
  const BASE = { HOOKWIRE_API_KEYS: "acme:acme-key-0123456789" };
  const load = (value: string) => loadConfig({ ...BASE, HOOKWIRE_PUBLIC_URL: value }).publicUrl;

  it("is unset by default, else an http(s) origin, kept without a trailing slash", () => {
    expect(loadConfig(BASE).publicUrl).toBeUndefined();
    expect(load("")).toBeUndefined();
    expect(load("https://hooks.platform.example")).toBe("https://hooks.platform.example");
    expect(load("https://hooks.platform.example/")).toBe("https://hooks.platform.example");
    expect(load(" http://127.0.0.1:8080 ")).toBe("http://127.0.0.1:8080");
    expect(load("HTTPS://Hooks.Platform.Example:443")).toBe("https://hooks.platform.example");
  });

  it.each(["hooks.platform.example", "ftp://hooks.platform.example", "https://hooks.platform.example/hookwire", "https://hooks.platform.example/?x=1", "https://hooks.platform.example/#p", "https://u:p@hooks.platform.example", "https://"])(
    "refuses %j with one line naming it",
    (value) => {
      let err: unknown;
      try {
        load(value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^HOOKWIRE_PUBLIC_URL: ".*" is not an http\(s\) origin such as https:\/\/hooks\.example\.com/);
    },
  );
});
