#!/usr/bin/env node
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// node_modules/semver/internal/debug.js
var require_debug = __commonJS({
  "node_modules/semver/internal/debug.js"(exports, module) {
    "use strict";
    var debug = typeof process === "object" && process.env && process.env.NODE_DEBUG && /\bsemver\b/i.test(process.env.NODE_DEBUG) ? (...args) => console.error("SEMVER", ...args) : () => {
    };
    module.exports = debug;
  }
});

// node_modules/semver/internal/constants.js
var require_constants = __commonJS({
  "node_modules/semver/internal/constants.js"(exports, module) {
    "use strict";
    var SEMVER_SPEC_VERSION = "2.0.0";
    var MAX_LENGTH = 256;
    var MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER || /* istanbul ignore next */
    9007199254740991;
    var MAX_SAFE_COMPONENT_LENGTH = 16;
    var MAX_SAFE_BUILD_LENGTH = MAX_LENGTH - 6;
    var WHITESPACE_CHARACTERS = [
      "	",
      "\n",
      "\v",
      "\f",
      "\r",
      " ",
      "\xA0",
      "\u1680",
      "\u2000",
      "\u2001",
      "\u2002",
      "\u2003",
      "\u2004",
      "\u2005",
      "\u2006",
      "\u2007",
      "\u2008",
      "\u2009",
      "\u200A",
      "\u2028",
      "\u2029",
      "\u202F",
      "\u205F",
      "\u3000",
      "\uFEFF"
    ];
    var RELEASE_TYPES = [
      "major",
      "premajor",
      "minor",
      "preminor",
      "patch",
      "prepatch",
      "prerelease"
    ];
    module.exports = {
      MAX_LENGTH,
      MAX_SAFE_COMPONENT_LENGTH,
      MAX_SAFE_BUILD_LENGTH,
      MAX_SAFE_INTEGER,
      WHITESPACE_CHARACTERS,
      RELEASE_TYPES,
      SEMVER_SPEC_VERSION,
      FLAG_INCLUDE_PRERELEASE: 1,
      FLAG_LOOSE: 2
    };
  }
});

// node_modules/semver/internal/re.js
var require_re = __commonJS({
  "node_modules/semver/internal/re.js"(exports, module) {
    "use strict";
    var {
      MAX_SAFE_COMPONENT_LENGTH,
      MAX_SAFE_BUILD_LENGTH,
      MAX_LENGTH
    } = require_constants();
    var debug = require_debug();
    exports = module.exports = {};
    var re = exports.re = [];
    var safeRe = exports.safeRe = [];
    var src = exports.src = [];
    var safeSrc = exports.safeSrc = [];
    var t = exports.t = {};
    var R = 0;
    var LETTERDASHNUMBER = "[a-zA-Z0-9-]";
    var safeRegexReplacements = [
      ["\\s", 1],
      ["\\d", MAX_LENGTH],
      [LETTERDASHNUMBER, MAX_SAFE_BUILD_LENGTH]
    ];
    var makeSafeRegex = (value) => {
      for (const [token, max] of safeRegexReplacements) {
        value = value.split(`${token}*`).join(`${token}{0,${max}}`).split(`${token}+`).join(`${token}{1,${max}}`);
      }
      return value;
    };
    var createToken = (name, value, isGlobal) => {
      const safe = makeSafeRegex(value);
      const index = R++;
      debug(name, index, value);
      t[name] = index;
      src[index] = value;
      safeSrc[index] = safe;
      re[index] = new RegExp(value, isGlobal ? "g" : void 0);
      safeRe[index] = new RegExp(safe, isGlobal ? "g" : void 0);
    };
    createToken("NUMERICIDENTIFIER", "0|[1-9]\\d*");
    createToken("NUMERICIDENTIFIERLOOSE", "\\d+");
    createToken("NONNUMERICIDENTIFIER", `\\d*[a-zA-Z-]${LETTERDASHNUMBER}*`);
    createToken("MAINVERSION", `(${src[t.NUMERICIDENTIFIER]})\\.(${src[t.NUMERICIDENTIFIER]})\\.(${src[t.NUMERICIDENTIFIER]})`);
    createToken("MAINVERSIONLOOSE", `(${src[t.NUMERICIDENTIFIERLOOSE]})\\.(${src[t.NUMERICIDENTIFIERLOOSE]})\\.(${src[t.NUMERICIDENTIFIERLOOSE]})`);
    createToken("PRERELEASEIDENTIFIER", `(?:${src[t.NONNUMERICIDENTIFIER]}|${src[t.NUMERICIDENTIFIER]})`);
    createToken("PRERELEASEIDENTIFIERLOOSE", `(?:${src[t.NONNUMERICIDENTIFIER]}|${src[t.NUMERICIDENTIFIERLOOSE]})`);
    createToken("PRERELEASE", `(?:-(${src[t.PRERELEASEIDENTIFIER]}(?:\\.${src[t.PRERELEASEIDENTIFIER]})*))`);
    createToken("PRERELEASELOOSE", `(?:-?(${src[t.PRERELEASEIDENTIFIERLOOSE]}(?:\\.${src[t.PRERELEASEIDENTIFIERLOOSE]})*))`);
    createToken("BUILDIDENTIFIER", `${LETTERDASHNUMBER}+`);
    createToken("BUILD", `(?:\\+(${src[t.BUILDIDENTIFIER]}(?:\\.${src[t.BUILDIDENTIFIER]})*))`);
    createToken("FULLPLAIN", `v?${src[t.MAINVERSION]}${src[t.PRERELEASE]}?${src[t.BUILD]}?`);
    createToken("FULL", `^${src[t.FULLPLAIN]}$`);
    createToken("LOOSEPLAIN", `[v=\\s]*${src[t.MAINVERSIONLOOSE]}${src[t.PRERELEASELOOSE]}?${src[t.BUILD]}?`);
    createToken("LOOSE", `^${src[t.LOOSEPLAIN]}$`);
    createToken("GTLT", "((?:<|>)?=?)");
    createToken("XRANGEIDENTIFIERLOOSE", `${src[t.NUMERICIDENTIFIERLOOSE]}|x|X|\\*`);
    createToken("XRANGEIDENTIFIER", `${src[t.NUMERICIDENTIFIER]}|x|X|\\*`);
    createToken("XRANGEPLAIN", `[v=\\s]*(${src[t.XRANGEIDENTIFIER]})(?:\\.(${src[t.XRANGEIDENTIFIER]})(?:\\.(${src[t.XRANGEIDENTIFIER]})(?:${src[t.PRERELEASE]})?${src[t.BUILD]}?)?)?`);
    createToken("XRANGEPLAINLOOSE", `[v=\\s]*(${src[t.XRANGEIDENTIFIERLOOSE]})(?:\\.(${src[t.XRANGEIDENTIFIERLOOSE]})(?:\\.(${src[t.XRANGEIDENTIFIERLOOSE]})(?:${src[t.PRERELEASELOOSE]})?${src[t.BUILD]}?)?)?`);
    createToken("XRANGE", `^${src[t.GTLT]}\\s*${src[t.XRANGEPLAIN]}$`);
    createToken("XRANGELOOSE", `^${src[t.GTLT]}\\s*${src[t.XRANGEPLAINLOOSE]}$`);
    createToken("COERCEPLAIN", `${"(^|[^\\d])(\\d{1,"}${MAX_SAFE_COMPONENT_LENGTH}})(?:\\.(\\d{1,${MAX_SAFE_COMPONENT_LENGTH}}))?(?:\\.(\\d{1,${MAX_SAFE_COMPONENT_LENGTH}}))?`);
    createToken("COERCE", `${src[t.COERCEPLAIN]}(?:$|[^\\d])`);
    createToken("COERCEFULL", src[t.COERCEPLAIN] + `(?:${src[t.PRERELEASE]})?(?:${src[t.BUILD]})?(?:$|[^\\d])`);
    createToken("COERCERTL", src[t.COERCE], true);
    createToken("COERCERTLFULL", src[t.COERCEFULL], true);
    createToken("LONETILDE", "(?:~>?)");
    createToken("TILDETRIM", `(\\s*)${src[t.LONETILDE]}\\s+`, true);
    exports.tildeTrimReplace = "$1~";
    createToken("TILDE", `^${src[t.LONETILDE]}${src[t.XRANGEPLAIN]}$`);
    createToken("TILDELOOSE", `^${src[t.LONETILDE]}${src[t.XRANGEPLAINLOOSE]}$`);
    createToken("LONECARET", "(?:\\^)");
    createToken("CARETTRIM", `(\\s*)${src[t.LONECARET]}\\s+`, true);
    exports.caretTrimReplace = "$1^";
    createToken("CARET", `^${src[t.LONECARET]}${src[t.XRANGEPLAIN]}$`);
    createToken("CARETLOOSE", `^${src[t.LONECARET]}${src[t.XRANGEPLAINLOOSE]}$`);
    createToken("COMPARATORLOOSE", `^${src[t.GTLT]}\\s*(${src[t.LOOSEPLAIN]})$|^$`);
    createToken("COMPARATOR", `^${src[t.GTLT]}\\s*(${src[t.FULLPLAIN]})$|^$`);
    createToken("COMPARATORTRIM", `(\\s*)${src[t.GTLT]}\\s*(${src[t.LOOSEPLAIN]}|${src[t.XRANGEPLAIN]})`, true);
    exports.comparatorTrimReplace = "$1$2$3";
    createToken("HYPHENRANGE", `^\\s*(${src[t.XRANGEPLAIN]})\\s+-\\s+(${src[t.XRANGEPLAIN]})\\s*$`);
    createToken("HYPHENRANGELOOSE", `^\\s*(${src[t.XRANGEPLAINLOOSE]})\\s+-\\s+(${src[t.XRANGEPLAINLOOSE]})\\s*$`);
    createToken("STAR", "(<|>)?=?\\s*\\*");
    createToken("GTE0", "^\\s*>=\\s*0\\.0\\.0\\s*$");
    createToken("GTE0PRE", "^\\s*>=\\s*0\\.0\\.0-0\\s*$");
  }
});

// node_modules/semver/internal/parse-options.js
var require_parse_options = __commonJS({
  "node_modules/semver/internal/parse-options.js"(exports, module) {
    "use strict";
    var looseOption = Object.freeze({ loose: true });
    var emptyOpts = Object.freeze({});
    var parseOptions = (options) => {
      if (!options) {
        return emptyOpts;
      }
      if (typeof options !== "object") {
        return looseOption;
      }
      return options;
    };
    module.exports = parseOptions;
  }
});

// node_modules/semver/internal/identifiers.js
var require_identifiers = __commonJS({
  "node_modules/semver/internal/identifiers.js"(exports, module) {
    "use strict";
    var numeric = /^[0-9]+$/;
    var compareIdentifiers = (a, b) => {
      if (typeof a === "number" && typeof b === "number") {
        return a === b ? 0 : a < b ? -1 : 1;
      }
      const anum = numeric.test(a);
      const bnum = numeric.test(b);
      if (anum && bnum) {
        a = +a;
        b = +b;
      }
      return a === b ? 0 : anum && !bnum ? -1 : bnum && !anum ? 1 : a < b ? -1 : 1;
    };
    var rcompareIdentifiers = (a, b) => compareIdentifiers(b, a);
    module.exports = {
      compareIdentifiers,
      rcompareIdentifiers
    };
  }
});

// node_modules/semver/classes/semver.js
var require_semver = __commonJS({
  "node_modules/semver/classes/semver.js"(exports, module) {
    "use strict";
    var debug = require_debug();
    var { MAX_LENGTH, MAX_SAFE_INTEGER } = require_constants();
    var { safeRe: re, t } = require_re();
    var parseOptions = require_parse_options();
    var { compareIdentifiers } = require_identifiers();
    var isPrereleaseIdentifier = (prerelease, identifier) => {
      const identifiers = identifier.split(".");
      if (identifiers.length > prerelease.length) {
        return false;
      }
      for (let i = 0; i < identifiers.length; i++) {
        if (compareIdentifiers(prerelease[i], identifiers[i]) !== 0) {
          return false;
        }
      }
      return true;
    };
    var SemVer = class _SemVer {
      constructor(version, options) {
        options = parseOptions(options);
        if (version instanceof _SemVer) {
          if (version.loose === !!options.loose && version.includePrerelease === !!options.includePrerelease) {
            return version;
          } else {
            version = version.version;
          }
        } else if (typeof version !== "string") {
          throw new TypeError(`Invalid version. Must be a string. Got type "${typeof version}".`);
        }
        if (version.length > MAX_LENGTH) {
          throw new TypeError(
            `version is longer than ${MAX_LENGTH} characters`
          );
        }
        debug("SemVer", version, options);
        this.options = options;
        this.loose = !!options.loose;
        this.includePrerelease = !!options.includePrerelease;
        const m = version.trim().match(options.loose ? re[t.LOOSE] : re[t.FULL]);
        if (!m) {
          throw new TypeError(`Invalid Version: ${version}`);
        }
        this.raw = version;
        this.major = +m[1];
        this.minor = +m[2];
        this.patch = +m[3];
        if (this.major > MAX_SAFE_INTEGER || this.major < 0) {
          throw new TypeError("Invalid major version");
        }
        if (this.minor > MAX_SAFE_INTEGER || this.minor < 0) {
          throw new TypeError("Invalid minor version");
        }
        if (this.patch > MAX_SAFE_INTEGER || this.patch < 0) {
          throw new TypeError("Invalid patch version");
        }
        if (!m[4]) {
          this.prerelease = [];
        } else {
          this.prerelease = m[4].split(".").map((id) => {
            if (/^[0-9]+$/.test(id)) {
              const num = +id;
              if (num >= 0 && num < MAX_SAFE_INTEGER) {
                return num;
              }
            }
            return id;
          });
        }
        this.build = m[5] ? m[5].split(".") : [];
        this.format();
      }
      format() {
        this.version = `${this.major}.${this.minor}.${this.patch}`;
        if (this.prerelease.length) {
          this.version += `-${this.prerelease.join(".")}`;
        }
        return this.version;
      }
      toString() {
        return this.version;
      }
      compare(other) {
        debug("SemVer.compare", this.version, this.options, other);
        if (!(other instanceof _SemVer)) {
          if (typeof other === "string" && other === this.version) {
            return 0;
          }
          other = new _SemVer(other, this.options);
        }
        if (other.version === this.version) {
          return 0;
        }
        return this.compareMain(other) || this.comparePre(other);
      }
      compareMain(other) {
        if (!(other instanceof _SemVer)) {
          other = new _SemVer(other, this.options);
        }
        if (this.major < other.major) {
          return -1;
        }
        if (this.major > other.major) {
          return 1;
        }
        if (this.minor < other.minor) {
          return -1;
        }
        if (this.minor > other.minor) {
          return 1;
        }
        if (this.patch < other.patch) {
          return -1;
        }
        if (this.patch > other.patch) {
          return 1;
        }
        return 0;
      }
      comparePre(other) {
        if (!(other instanceof _SemVer)) {
          other = new _SemVer(other, this.options);
        }
        if (this.prerelease.length && !other.prerelease.length) {
          return -1;
        } else if (!this.prerelease.length && other.prerelease.length) {
          return 1;
        } else if (!this.prerelease.length && !other.prerelease.length) {
          return 0;
        }
        let i = 0;
        do {
          const a = this.prerelease[i];
          const b = other.prerelease[i];
          debug("prerelease compare", i, a, b);
          if (a === void 0 && b === void 0) {
            return 0;
          } else if (b === void 0) {
            return 1;
          } else if (a === void 0) {
            return -1;
          } else if (a === b) {
            continue;
          } else {
            return compareIdentifiers(a, b);
          }
        } while (++i);
      }
      compareBuild(other) {
        if (!(other instanceof _SemVer)) {
          other = new _SemVer(other, this.options);
        }
        let i = 0;
        do {
          const a = this.build[i];
          const b = other.build[i];
          debug("build compare", i, a, b);
          if (a === void 0 && b === void 0) {
            return 0;
          } else if (b === void 0) {
            return 1;
          } else if (a === void 0) {
            return -1;
          } else if (a === b) {
            continue;
          } else {
            return compareIdentifiers(a, b);
          }
        } while (++i);
      }
      // preminor will bump the version up to the next minor release, and immediately
      // down to pre-release. premajor and prepatch work the same way.
      inc(release, identifier, identifierBase) {
        if (release.startsWith("pre")) {
          if (!identifier && identifierBase === false) {
            throw new Error("invalid increment argument: identifier is empty");
          }
          if (identifier) {
            const match = `-${identifier}`.match(this.options.loose ? re[t.PRERELEASELOOSE] : re[t.PRERELEASE]);
            if (!match || match[1] !== identifier) {
              throw new Error(`invalid identifier: ${identifier}`);
            }
          }
        }
        switch (release) {
          case "premajor":
            this.prerelease.length = 0;
            this.patch = 0;
            this.minor = 0;
            this.major++;
            this.inc("pre", identifier, identifierBase);
            break;
          case "preminor":
            this.prerelease.length = 0;
            this.patch = 0;
            this.minor++;
            this.inc("pre", identifier, identifierBase);
            break;
          case "prepatch":
            this.prerelease.length = 0;
            this.inc("patch", identifier, identifierBase);
            this.inc("pre", identifier, identifierBase);
            break;
          // If the input is a non-prerelease version, this acts the same as
          // prepatch.
          case "prerelease":
            if (this.prerelease.length === 0) {
              this.inc("patch", identifier, identifierBase);
            }
            this.inc("pre", identifier, identifierBase);
            break;
          case "release":
            if (this.prerelease.length === 0) {
              throw new Error(`version ${this.raw} is not a prerelease`);
            }
            this.prerelease.length = 0;
            break;
          case "major":
            if (this.minor !== 0 || this.patch !== 0 || this.prerelease.length === 0) {
              this.major++;
            }
            this.minor = 0;
            this.patch = 0;
            this.prerelease = [];
            break;
          case "minor":
            if (this.patch !== 0 || this.prerelease.length === 0) {
              this.minor++;
            }
            this.patch = 0;
            this.prerelease = [];
            break;
          case "patch":
            if (this.prerelease.length === 0) {
              this.patch++;
            }
            this.prerelease = [];
            break;
          // This probably shouldn't be used publicly.
          // 1.0.0 'pre' would become 1.0.0-0 which is the wrong direction.
          case "pre": {
            const base = Number(identifierBase) ? 1 : 0;
            if (this.prerelease.length === 0) {
              this.prerelease = [base];
            } else {
              let i = this.prerelease.length;
              while (--i >= 0) {
                if (typeof this.prerelease[i] === "number") {
                  this.prerelease[i]++;
                  i = -2;
                }
              }
              if (i === -1) {
                if (identifier === this.prerelease.join(".") && identifierBase === false) {
                  throw new Error("invalid increment argument: identifier already exists");
                }
                this.prerelease.push(base);
              }
            }
            if (identifier) {
              let prerelease = [identifier, base];
              if (identifierBase === false) {
                prerelease = [identifier];
              }
              if (isPrereleaseIdentifier(this.prerelease, identifier)) {
                const prereleaseBase = this.prerelease[identifier.split(".").length];
                if (isNaN(prereleaseBase)) {
                  this.prerelease = prerelease;
                }
              } else {
                this.prerelease = prerelease;
              }
            }
            break;
          }
          default:
            throw new Error(`invalid increment argument: ${release}`);
        }
        this.raw = this.format();
        if (this.build.length) {
          this.raw += `+${this.build.join(".")}`;
        }
        return this;
      }
    };
    module.exports = SemVer;
  }
});

// node_modules/semver/functions/parse.js
var require_parse = __commonJS({
  "node_modules/semver/functions/parse.js"(exports, module) {
    "use strict";
    var SemVer = require_semver();
    var parse2 = (version, options, throwErrors = false) => {
      if (version instanceof SemVer) {
        return version;
      }
      try {
        return new SemVer(version, options);
      } catch (er) {
        if (!throwErrors) {
          return null;
        }
        throw er;
      }
    };
    module.exports = parse2;
  }
});

// contract/package-version.ts
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
function packageVersion() {
  if (true) return "0.1.0";
  let dir = dirname(fileURLToPath(import.meta.url));
  for (; ; ) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (manifest.name === "ota-deploy" && typeof manifest.version === "string") {
        return manifest.version;
      }
    } catch {
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

// action/cli-args.ts
import { parseArgs } from "node:util";

// action/errors.ts
var SettingsError = class extends Error {
  name = "SettingsError";
};
var DeployError = class extends Error {
  name = "DeployError";
};
var RegistryError = class extends DeployError {
  constructor(message, status, registryMessage) {
    super(message);
    this.status = status;
    this.registryMessage = registryMessage;
  }
  status;
  registryMessage;
  name = "RegistryError";
};

// action/messages.ts
function said(status, registryMessage) {
  return registryMessage ? `(${status}: "${registryMessage}")` : `(${status})`;
}
function loginFailed(status, registryMessage) {
  if (status === 401 || status === 403) {
    return `Login failed: the registry rejected the email or password ${said(status, registryMessage)}. Check the secrets used for email and password.`;
  }
  if (status === 404) {
    return `Login failed: the registry has no login endpoint at this address ${said(status, registryMessage)}. Check registry-url.`;
  }
  return `Login failed ${said(status, registryMessage)}.`;
}
function uploadFailed(status, registryMessage, context) {
  const answer = said(status, registryMessage);
  const kind = context.target;
  switch (status) {
    case 400:
      return `The registry refused the upload ${answer}. Check ${kind}-id, the version and that the file is the ESP application image (firmware.bin, not the .elf or a merged image).`;
    case 401:
      return `The registry rejected the API token ${answer}: it is wrong, revoked or expired. Create a new API key and update the secret used for api-token, or use email and password so that every run logs in afresh.`;
    case 403:
      return `The ${kind} token was rejected ${answer}. Check the secret used for ${kind}-token: rotating the token on the registry replaces it.`;
    case 404:
      return `The registry does not know this ${kind} ${answer}. Check the secret used for ${kind}-id, that the ${kind} belongs to the account of the credentials, and registry-url (${context.registryUrl}).`;
    case 409:
      if (registryMessage?.includes("OTA client")) return otaClientRefused(answer, kind);
      return `Version ${context.version ?? ""} is already deployed to this ${kind} with different bytes ${answer}. Devices compare version strings, so they would never install this build: bump the version (push a new tag, e.g. a higher patch number).`;
    case 413:
      return `The firmware (${context.size ?? "?"} bytes) is larger than the registry accepts ${answer}. Make the image smaller or raise the registry's upload limit.`;
    case 429:
      return `The registry kept asking to slow down ${answer}; retries are used up. Try again later or raise retries.`;
    default:
      if (status >= 500) {
        return `The registry failed ${answer}; retries are used up. The previous firmware is still being served. Try again later, or check the registry's logs if it is self-hosted.`;
      }
      return `Unexpected answer from the registry ${answer}.`;
  }
}
function unreachable(registryUrl, attempts, cause) {
  return `Could not reach the registry at ${registryUrl} after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${cause}. Check registry-url and the network.`;
}
function retrying(what, delayMs, nextAttempt, attempts) {
  return `${what}; retrying in ${formatDelay(delayMs)} (attempt ${nextAttempt} of ${attempts}).`;
}
function formatDelay(ms) {
  return ms < 1e3 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
function versionMissing(version, firmware) {
  return `The version string "${version}" does not appear inside ${firmware}. A device compares the version the registry offers with the one compiled into its firmware: if this image still reports an older version, the device installs it, reboots, sees a different version again and updates forever. Use FIRMWARE_VERSION in the code (inject-version: true defines it), or bump the version literal; set verify-version: off if the image reports its version another way.`;
}
function otaClientList(clients, name = (client) => client) {
  if (clients === void 0) return "not checked";
  return clients.length === 0 ? "none found" : clients.map(name).join(", ");
}
function otaClientMissing(firmware) {
  return `${firmware} carries no OTA client the registry knows (IoTaaP OS, Arduino HTTPUpdate or ESP-IDF esp_https_ota), so devices that install it can never be updated over the air again: keep the OTA client in the build, or set verify-ota-client: off if it updates another way.`;
}
function otaClientRefused(answer, kind) {
  return `The registry refused the upload ${answer}: this ${kind} is served firmware with an OTA client and this image has none, so its devices could never be updated over the air again. Keep the OTA client in the build; to deploy it anyway, upload it with force=true through the registry's API.`;
}
function invalidImage(firmware, reason) {
  return `${firmware}: ${reason}`;
}
function triggered(kind) {
  return kind === "group" ? "Triggered: the registry told the group's devices over MQTT to update now." : "Triggered: the registry told the device over MQTT to update now.";
}
function triggerFailed(reason) {
  return `The firmware is deployed, but the registry could not tell the devices to update now (${reason}): they will find it at their next check (IoTaaP OS: every 6 hours). See docs/push.md.`;
}
function dryRun(settings, file, size, url) {
  const auth = settings.credentials.kind === "login" ? "after logging in with email and password" : "with api-token";
  return `Dry run: would upload ${file} (${size} bytes) as version ${settings.version} to ${settings.target.kind} ${settings.target.id} with POST ${url}, ${auth}. Nothing was sent to the registry.`;
}
var versionFlagEmpty = "--version needs the firmware version to deploy (--version 1.2.7). ota-deploy's own version: ota-deploy -V.";
function switchContradiction(name) {
  return `--${name} and --no-${name} contradict each other.`;
}
function environmentInvalid(environment) {
  return `environment must be one PlatformIO environment name (the NAME of [env:NAME]), got "${environment}".`;
}
function registryUrlNotUrl(value) {
  return `registry-url is not a URL: "${value}".`;
}
function registryUrlScheme(value) {
  return `registry-url must start with https:// or http://, got "${value}".`;
}
var registryUrlCredentials = "registry-url must not contain a user name or password: use api-token, or email and password.";
function registryUrlQuery(value) {
  return `registry-url must not have a query or fragment, got "${value}".`;
}
function selfHostedKeyAtCloud(what, prefix, cloudUrl) {
  return `api-token is ${what} of a self-hosted ota-registry (it starts with ${prefix}), but registry-url is IoTaaP's cloud (${cloudUrl}, the default): set registry-url to your registry's base URL, e.g. https://ota.example.com. Nothing was sent.`;
}
var twoCredentials = "Give either api-token, or email and password, not both: it would be unclear which account deploys.";
function halfLogin(given, missing) {
  return `${given} is given but ${missing} is missing.`;
}
var noCredentials = "No credentials: set api-token (an API key of the registry), or email and password.";
var twoTargets = "Give either device-id and device-token, or group-id and group-token, not both: one deploy has one target.";
var noTarget = "No target: set device-id and device-token (or group-id and group-token to deploy to a group).";
function idWithoutToken(kind) {
  return `${kind}-id is required with ${kind}-token.`;
}
function targetIdInvalid(kind, length) {
  return `${kind}-id must be the ${kind}'s 24-character hexadecimal id (like 5e1b57808711f904f5df4bad), got ${length} characters.`;
}
function tokenWithoutId(kind) {
  return `${kind}-token is required with ${kind}-id.`;
}
function targetTokenInvalid(kind) {
  return `${kind}-token must be letters and digits only.`;
}
function versionInvalid(value) {
  return `version "${value}" is not a semantic version: use MAJOR.MINOR.PATCH, e.g. 1.2.7 or 1.2.7-rc.1.`;
}
function noVersion(missing) {
  return `No version: ${missing}`;
}
function tagInvalid(tag) {
  return `Tag "${tag}" is not a semantic version: name release tags like v1.2.7 (or 1.2.7, v1.2.7-rc.1), or set version.`;
}
function booleanInvalid(name, value) {
  return `${name} must be true or false, got "${value}".`;
}
var triggerAtCloud = "trigger is not available with IoTaaP's cloud (api.iotaap.io): its upload API has no such option, and its upload triggers the devices by itself. Remove trigger, or use a self-hosted ota-registry.";
function checkModeInvalid(name, value) {
  return `${name} must be warn, fail or off, got "${value}".`;
}
function retriesInvalid(max, value) {
  return `retries must be a whole number from 0 to ${max}, got "${value}".`;
}
function fleetSettingAtCloud(name) {
  return `${name} is not available with IoTaaP's cloud (api.iotaap.io): it has no staged rollouts and no device reports to wait for. Remove ${name}, or use a self-hosted ota-registry (registry-url).`;
}
var rolloutNeedsGroup = "rollout stages a group's devices: use it with group-id and group-token (a single device has nothing to stage).";
var groupWaitNeedsRollout = "wait on a group needs rollout (e.g. rollout: 100): the rollout is what tracks which devices took the version.";
function rolloutInvalid(value) {
  return `rollout must be rising percentages that end at 100, such as 5,25,100, got "${value}".`;
}
function waitInvalid(value) {
  return `wait must be a duration such as 90s, 15m or 1h30m (at most 6h), or 0, got "${value}".`;
}
var pioMissing = "PlatformIO (pio) is not on PATH. Install it before this step (pip install platformio), or set install-platformio: true.";
var pioNoPython = "PlatformIO (pio) is not on PATH and there is no Python to install it with: add actions/setup-python before this step, or install PlatformIO yourself.";
function pioInstallFailed(code) {
  return `pip install platformio failed (exit code ${code}). A system Python may refuse packages (PEP 668): add actions/setup-python before this step, or install PlatformIO yourself and set install-platformio: false.`;
}
function pioRunFailed(code) {
  return `pio run failed (exit code ${code}); see the build output above.`;
}
function firmwareNotFile(firmware) {
  return `firmware ${firmware} does not exist or is not a file.`;
}
function noBuiltFirmware(file, environment) {
  return `No firmware at ${file}: did the build of environment "${environment}" run? Set firmware to upload another file.`;
}
function noFirmwareUnder(buildDir) {
  return `No firmware.bin under ${buildDir}. Build the project first (build: true), or set firmware to the image's path.`;
}
function severalFirmwares(candidates) {
  return `Several firmware images and no environment to choose one: ${candidates.join(", ")}. Set environment (the PlatformIO env to deploy) or firmware.`;
}
function firmwareUnreadable(file, reason) {
  return `Cannot read firmware ${file}: ${reason}`;
}
var loginWithoutToken = "Login failed: the registry answered without a token. Check registry-url.";

// action/settings.ts
import * as path from "node:path";

// contract/ids.ts
var OBJECT_ID = /^[0-9a-f]{24}$/;
var TOKEN = /^[A-Za-z0-9]+$/;

// contract/version.ts
var import_parse = __toESM(require_parse(), 1);
var MAX_VERSION_LENGTH = 64;
function isValidVersion(version) {
  if (version.length > MAX_VERSION_LENGTH) return false;
  const parsed = (0, import_parse.default)(version);
  if (parsed === null) return false;
  const build = parsed.build.length > 0 ? `+${parsed.build.join(".")}` : "";
  return parsed.version + build === version;
}
function versionFromTag(tag) {
  const name = tag.replace(/^refs\/tags\//, "").replace(/^[vV]/, "");
  return isValidVersion(name) ? name : void 0;
}

// action/settings.ts
var DEFAULT_REGISTRY_URL = "https://api.iotaap.io";
var DEFAULT_RETRIES = 3;
var MAX_RETRIES = 10;
var SETTING_NAMES = [
  "registry-url",
  "api-token",
  "email",
  "password",
  "device-id",
  "device-token",
  "group-id",
  "group-token",
  "version",
  "project-dir",
  "environment",
  "firmware",
  "build",
  "dry-run",
  "install-platformio",
  "inject-version",
  "verify-version",
  "verify-ota-client",
  "retries",
  "trigger",
  "rollout",
  "wait"
];
var SWITCH_SETTINGS = [
  "build",
  "dry-run",
  "install-platformio",
  "inject-version"
];
var ENVIRONMENT = /^[^\s,]+$/;
function parseSettings(raw, versionSource, cwd) {
  const get = (name) => {
    const value = raw[name]?.trim();
    return value ? value : void 0;
  };
  const projectDir = path.resolve(cwd, get("project-dir") ?? ".");
  const firmware = get("firmware");
  const environment = get("environment");
  if (environment !== void 0 && !ENVIRONMENT.test(environment)) {
    throw new SettingsError(environmentInvalid(environment));
  }
  const settings = {
    registryUrl: parseRegistryUrl(get("registry-url") ?? DEFAULT_REGISTRY_URL),
    credentials: parseCredentials(get("api-token"), get("email"), get("password")),
    target: parseTarget(get("device-id"), get("device-token"), get("group-id"), get("group-token")),
    version: parseVersion(get("version"), versionSource),
    projectDir,
    build: parseBoolean("build", get("build"), true),
    installPlatformio: parseBoolean("install-platformio", get("install-platformio"), true),
    injectVersion: parseBoolean("inject-version", get("inject-version"), true),
    verifyVersion: parseCheckMode("verify-version", get("verify-version")),
    verifyOtaClient: parseCheckMode("verify-ota-client", get("verify-ota-client")),
    retries: parseRetries(get("retries"))
  };
  refuseSelfHostedKeyAtCloud(settings.credentials, settings.registryUrl);
  if (parseBoolean("dry-run", get("dry-run"), false)) settings.dryRun = true;
  const trigger = parseTrigger(get("trigger"), settings.registryUrl);
  if (trigger !== void 0) settings.trigger = trigger;
  Object.assign(settings, parseFollowUp(get("rollout"), get("wait"), settings));
  if (environment !== void 0) settings.environment = environment;
  if (firmware !== void 0) settings.firmware = path.resolve(cwd, firmware);
  return settings;
}
function parseRegistryUrl(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(registryUrlNotUrl(value));
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SettingsError(registryUrlScheme(value));
  }
  if (url.username || url.password) {
    throw new SettingsError(registryUrlCredentials);
  }
  if (url.search || url.hash) {
    throw new SettingsError(registryUrlQuery(value));
  }
  return url.href.replace(/\/+$/, "");
}
var SELF_HOSTED_SECRET_PREFIXES = { ota_key_: "an API key", ota_ses_: "a session token" };
function refuseSelfHostedKeyAtCloud(credentials, registryUrl) {
  if (credentials.kind !== "api-token" || !isIotaapCloud(registryUrl)) return;
  for (const [prefix, what] of Object.entries(SELF_HOSTED_SECRET_PREFIXES)) {
    if (credentials.apiToken.startsWith(prefix)) {
      throw new SettingsError(selfHostedKeyAtCloud(what, prefix, DEFAULT_REGISTRY_URL));
    }
  }
}
function isIotaapCloud(registryUrl) {
  return new URL(registryUrl).hostname === new URL(DEFAULT_REGISTRY_URL).hostname;
}
function parseCredentials(apiToken, email, password) {
  if (apiToken !== void 0) {
    if (email !== void 0 || password !== void 0) {
      throw new SettingsError(twoCredentials);
    }
    return { kind: "api-token", apiToken };
  }
  if (email !== void 0 && password !== void 0) return { kind: "login", email, password };
  if (email !== void 0) throw new SettingsError(halfLogin("email", "password"));
  if (password !== void 0) throw new SettingsError(halfLogin("password", "email"));
  throw new SettingsError(noCredentials);
}
function parseTarget(deviceId, deviceToken, groupId, groupToken) {
  const device = deviceId !== void 0 || deviceToken !== void 0;
  const group = groupId !== void 0 || groupToken !== void 0;
  if (device && group) {
    throw new SettingsError(twoTargets);
  }
  if (group) return parseIdAndToken("group", groupId, groupToken);
  if (device) return parseIdAndToken("device", deviceId, deviceToken);
  throw new SettingsError(noTarget);
}
function parseIdAndToken(kind, id, token) {
  if (id === void 0) throw new SettingsError(idWithoutToken(kind));
  if (!OBJECT_ID.test(id.toLowerCase())) {
    throw new SettingsError(targetIdInvalid(kind, id.length));
  }
  if (token === void 0) throw new SettingsError(tokenWithoutId(kind));
  if (!TOKEN.test(token)) {
    throw new SettingsError(targetTokenInvalid(kind));
  }
  return { kind, id: id.toLowerCase(), token };
}
function parseVersion(value, source) {
  if (value !== void 0) {
    const version2 = value.replace(/^[vV]/, "");
    if (!isValidVersion(version2)) {
      throw new SettingsError(versionInvalid(value));
    }
    return version2;
  }
  if (source.tag === void 0) {
    throw new SettingsError(noVersion(source.missing));
  }
  const version = versionFromTag(source.tag);
  if (version === void 0) {
    throw new SettingsError(tagInvalid(source.tag));
  }
  return version;
}
var TRUE = ["true", "True", "TRUE"];
var FALSE = ["false", "False", "FALSE"];
function parseBoolean(name, value, fallback) {
  if (value === void 0) return fallback;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new SettingsError(booleanInvalid(name, value));
}
function parseTrigger(value, registryUrl) {
  if (value === void 0) return void 0;
  const trigger = parseBoolean("trigger", value, false);
  if (isIotaapCloud(registryUrl)) {
    throw new SettingsError(triggerAtCloud);
  }
  return trigger;
}
function parseCheckMode(name, value) {
  if (value === void 0) return "warn";
  const mode = value.toLowerCase();
  if (mode === "warn" || mode === "fail" || mode === "off") return mode;
  throw new SettingsError(checkModeInvalid(name, value));
}
function parseRetries(value) {
  if (value === void 0) return DEFAULT_RETRIES;
  if (!/^\d+$/.test(value) || Number(value) > MAX_RETRIES) {
    throw new SettingsError(retriesInvalid(MAX_RETRIES, value));
  }
  return Number(value);
}
var MAX_WAIT_MS = 6 * 36e5;
var DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
function parseFollowUp(rolloutValue, waitValue, settings) {
  const waitMs = waitValue === void 0 ? 0 : parseDuration(waitValue);
  const rollout = rolloutValue === void 0 ? void 0 : parsePhases(rolloutValue);
  const cloud = new URL(settings.registryUrl).hostname === new URL(DEFAULT_REGISTRY_URL).hostname;
  for (const [name, given] of [
    ["rollout", rollout !== void 0],
    ["wait", waitMs > 0]
  ]) {
    if (given && cloud) {
      throw new SettingsError(fleetSettingAtCloud(name));
    }
  }
  if (rollout !== void 0 && settings.target.kind !== "group") {
    throw new SettingsError(rolloutNeedsGroup);
  }
  if (waitMs > 0 && settings.target.kind === "group" && rollout === void 0) {
    throw new SettingsError(groupWaitNeedsRollout);
  }
  return {
    ...rollout !== void 0 ? { rollout } : {},
    ...waitMs > 0 ? { waitMs } : {}
  };
}
function parsePhases(value) {
  const phases = value.split(",").map((part) => /^\s*\d{1,3}\s*$/.test(part) ? Number(part) : NaN);
  const rising = phases.every((p, i) => p >= 1 && p <= 100 && (i === 0 || p > phases[i - 1]));
  if (!rising || phases.at(-1) !== 100) {
    throw new SettingsError(rolloutInvalid(value));
  }
  return phases;
}
function parseDuration(value) {
  if (value === "0") return 0;
  const match = DURATION.exec(value);
  const ms = match ? (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1e3 : NaN;
  if (!match || value === "" || !(ms <= MAX_WAIT_MS)) {
    throw new SettingsError(waitInvalid(value));
  }
  return ms;
}

// action/cli-args.ts
var VALUE_OPTIONS = SETTING_NAMES.filter(
  (name) => !SWITCH_SETTINGS.includes(name)
);
var HELP = `Usage: ota-deploy [options]

Builds a PlatformIO project and uploads its firmware to an OTA registry (IoTaaP's cloud or a
self-hosted one), so that the device installs it. The same as the iotaap/ota-deploy GitHub
Action, for GitLab CI, Jenkins or a shell. Every option can also be set as an environment
variable: OTA_ and the name in capitals with underscores (--device-id: OTA_DEVICE_ID). Flags win.
Pass secrets as environment variables: flags are visible to other users of the machine.

Registry and credentials:
  --registry-url URL       registry base URL (default ${DEFAULT_REGISTRY_URL})
  --api-token TOKEN        an API key of the registry; or:
  --email EMAIL            log in with email and password (a fresh session every run)
  --password PASSWORD

Target (a device, or a group and so all its devices):
  --device-id ID           the device's 24-character hexadecimal id
  --device-token TOKEN     the device's token
  --group-id ID            or: the group's 24-character hexadecimal id
  --group-token TOKEN      the group's token

Firmware:
  --version VERSION        the version to deploy, e.g. 1.2.7 (a leading v is dropped);
                           default: the tag in CI_COMMIT_TAG (GitLab CI), e.g. v1.2.7
  --project-dir DIR        the PlatformIO project (default .)
  -e, --environment ENV    the PlatformIO environment to build and deploy
  --firmware FILE          the image to upload (default .pio/build/<env>/firmware.bin)
  --build, --no-build      run "pio run" first (default: build)
  --dry-run                build and check, print what would be uploaded and where, and send
                           nothing to the registry
  --install-platformio, --no-install-platformio
                           pip install platformio when pio is missing (default: install)
  --inject-version, --no-inject-version
                           define FIRMWARE_VERSION="<version>" in the build (default: inject)
  --verify-version MODE    warn, fail or off: check that the version string is inside the
                           image, since a device whose firmware reports another version
                           updates forever (default warn)
  --verify-ota-client MODE warn, fail or off: check that the image carries an OTA client
                           (IoTaaP OS, Arduino HTTPUpdate, ESP-IDF esp_https_ota), since a
                           device that installs one without can never be updated over the
                           air again (default warn)
  --retries N              retries on network errors, 5xx and 429 (default ${DEFAULT_RETRIES})
  --trigger true|false     tell the devices over MQTT to update now (default: the registry's
                           choice; a self-hosted registry with a broker triggers)
  --rollout PHASES         a group's staged rollout, e.g. 5,25,100 (percent of its devices;
                           advances by itself, halts on a failure; self-hosted registry only)
  --wait DURATION          after the upload, wait until the device runs the version (or the
                           group's rollout completed), e.g. 15m; fail naming the devices that
                           failed (default 0: do not wait; self-hosted registry only)

Output:
  --json                   print the result as one JSON object on stdout
  --verbose                more detail on stderr
  -h, --help               this help
  -V                       print ota-deploy's own version (--version is the firmware's)

Exit codes: 0 deployed (or already deployed), 1 the deploy failed, 2 bad arguments.
`;
function parseCliArgs(argv, env, cwd) {
  if (argv.length === 1 && argv[0] === "--version") {
    throw new SettingsError(versionFlagEmpty);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(VALUE_OPTIONS.map((name) => [name, { type: "string" }])),
        ...Object.fromEntries(
          SWITCH_SETTINGS.flatMap((name) => [
            [name, { type: "boolean" }],
            [`no-${name}`, { type: "boolean" }]
          ])
        ),
        environment: { type: "string", short: "e" },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        "tool-version": { type: "boolean", short: "V" }
      }
    }));
  } catch (error) {
    throw new SettingsError(error.message);
  }
  if (values["help"] === true) return { kind: "help" };
  if (values["tool-version"] === true) return { kind: "tool-version" };
  const raw = {};
  for (const name of VALUE_OPTIONS) {
    const flag = values[name];
    raw[name] = typeof flag === "string" ? flag : env[envName(name)];
  }
  for (const name of SWITCH_SETTINGS) {
    const on = values[name] === true;
    const off = values[`no-${name}`] === true;
    if (on && off) throw new SettingsError(switchContradiction(name));
    raw[name] = on ? "true" : off ? "false" : env[envName(name)];
  }
  return {
    kind: "deploy",
    settings: parseSettings(raw, cliVersionSource(env), cwd),
    json: values["json"] === true,
    verbose: values["verbose"] === true
  };
}
function envName(option) {
  return `OTA_${option.toUpperCase().replace(/-/g, "_")}`;
}
function cliVersionSource(env) {
  const missing = "none of --version, OTA_VERSION or CI_COMMIT_TAG is set. Pass --version 1.2.7 (or OTA_VERSION), or run in a GitLab CI tag pipeline.";
  const tag = env["CI_COMMIT_TAG"];
  return tag ? { tag, missing } : { missing };
}

// action/console-logger.ts
var ConsoleLogger = class {
  constructor(options) {
    this.options = options;
  }
  options;
  secrets = [];
  info(message) {
    this.options.write(this.mask(message));
  }
  warning(message) {
    this.options.write(`warning: ${this.mask(message)}`);
  }
  debug(message) {
    if (this.options.verbose) this.options.write(`debug: ${this.mask(message)}`);
  }
  setSecret(value) {
    if (value === "" || this.secrets.includes(value)) return;
    this.secrets = [...this.secrets, value].sort((a, b) => b.length - a.length);
  }
  mask(text) {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join("***");
    return masked;
  }
};

// contract/chips.ts
var CHIP_IDS = {
  0: "esp32",
  2: "esp32s2",
  5: "esp32c3",
  9: "esp32s3",
  12: "esp32c2",
  13: "esp32c6",
  16: "esp32h2",
  18: "esp32p4"
};
function chipOfImageId(chipId) {
  return CHIP_IDS[chipId] ?? `esp32-chip-${chipId}`;
}
function chipLabel(chip) {
  const unknown = /^esp32-chip-(\d+)$/.exec(chip);
  if (unknown) return `ESP32 family (chip id ${unknown[1]})`;
  const variant = /^esp32([a-z]\d+)$/.exec(chip);
  if (variant) return `ESP32-${variant[1].toUpperCase()}`;
  return /^esp\d+$/.test(chip) ? chip.toUpperCase() : chip;
}

// action/firmware.ts
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import * as path2 from "node:path";

// contract/firmware-inspector.ts
import { createHash as createHash2 } from "node:crypto";

// contract/esp-image.ts
import { createHash } from "node:crypto";
var InvalidImageError = class extends Error {
  constructor(reason) {
    super(`Not a valid ESP firmware image: ${reason}`);
    this.name = "InvalidImageError";
  }
};
var MAGIC = 233;
var MAX_SEGMENTS = 16;
var MAX_IMAGE_BYTES = 16 * 1024 * 1024;
var ESP8266_APP_OFFSET = 4096;
var APP_DESC_OFFSET = 32;
var APP_DESC_MAGIC = 2882360370;
var APP_DESC_SIZE = 256;
var HEAD_BYTES = 176;
var UPLOAD_BIN = "upload the application firmware.bin (e.g. .pio/build/<env>/firmware.bin)";
var MERGED = `it looks like a merged/factory image (bootloader, partition table and app in one file); ${UPLOAD_BIN} instead`;
var EspImageValidator = class {
  offset = 0;
  // bytes consumed so far, i.e. the absolute file offset
  head = Buffer.alloc(HEAD_BYTES);
  field = Buffer.alloc(32);
  // fixed-size field being assembled
  fieldLength = 0;
  fieldNeed = 12;
  // image 0: enough to tell ESP32 family (EE 00 00 00 at 8) from ESP8266
  step = "header";
  image = 0;
  // 0, or 1 for the app image of an Arduino ESP8266 file
  imageStart = 0;
  esp32 = false;
  chipId = 0;
  segmentCount = 0;
  segment = 0;
  // index of the segment being read
  segmentLength = 0;
  segmentAt = 0;
  // offset of the current segment's header
  firstSegmentLength = 0;
  remaining = 0;
  // bytes left in segmentData, padding or gap
  checksum = 239;
  hash;
  // only while an image with an appended SHA-256 is read
  hashAppended = false;
  imageEnd = -1;
  // end offset of the last complete image
  partitionTableAt = -1;
  // offset of a possible partition table magic (merged image)
  update(chunk) {
    if (this.offset < HEAD_BYTES) chunk.copy(this.head, this.offset, 0, HEAD_BYTES - this.offset);
    let i = 0;
    while (i < chunk.length) {
      const step = this.step;
      const n = this.consume(chunk, i);
      if (this.hash && step !== "header" && step !== "digest") {
        this.hash.update(chunk.subarray(i, i + n));
      }
      i += n;
    }
  }
  finish() {
    if (this.offset !== this.imageEnd) throw new InvalidImageError(this.incompleteReason());
    const info = {
      chip: this.esp32 ? chipOfImageId(this.chipId) : "esp8266",
      segments: this.segmentCount,
      hashAppended: this.hashAppended
    };
    const head = this.head;
    if (this.esp32 && this.firstSegmentLength >= APP_DESC_SIZE) {
      if (head.readUInt32LE(APP_DESC_OFFSET) === APP_DESC_MAGIC) {
        info.appVersion = cString(head, 48, 32);
        info.projectName = cString(head, 80, 32);
        info.idfVersion = cString(head, 144, 32);
      }
    }
    return info;
  }
  /** Consumes bytes of `chunk` from `i` for the current step; returns how many (at least 1). */
  consume(chunk, i) {
    const available = chunk.length - i;
    if (this.step === "segmentData" || this.step === "padding" || this.step === "gap") {
      const n2 = Math.min(this.remaining, available);
      if (this.step === "segmentData") {
        let x = this.checksum;
        for (let k = i; k < i + n2; k++) x ^= chunk[k];
        this.checksum = x;
      }
      this.offset += n2;
      this.remaining -= n2;
      if (this.remaining === 0) this.stepDone();
      return n2;
    }
    if (this.step === "checksum") {
      const stored = chunk[i];
      this.offset += 1;
      if (stored !== this.checksum) {
        throw new InvalidImageError(
          `the image is corrupt: checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(this.checksum)}); the file was damaged or changed after the build`
        );
      }
      this.stepDone();
      return 1;
    }
    if (this.step === "trailing") {
      this.trailing(chunk[i]);
      this.offset += 1;
      return 1;
    }
    const n = Math.min(this.fieldNeed - this.fieldLength, available);
    chunk.copy(this.field, this.fieldLength, i, i + n);
    this.fieldLength += n;
    this.offset += n;
    if (this.step === "header" && this.field[0] !== MAGIC) {
      if (this.image === 1) {
        throw new InvalidImageError(
          `expected the ESP8266 application image (byte 0xE9) at offset 0x1000 after the boot image, found 0x${hex(this.field[0])}`
        );
      }
      if (this.fieldLength >= 4) throw new InvalidImageError(foreignFile(this.field, 4));
    }
    if (this.fieldLength === this.fieldNeed) this.stepDone();
    return n;
  }
  /** Moves to the next step once the current one has all its bytes. */
  stepDone() {
    switch (this.step) {
      case "header":
        return this.headerDone();
      case "segmentHeader": {
        const length = this.field.readUInt32LE(4);
        const where = `segment ${this.segment + 1} of ${this.segmentCount}`;
        if (this.esp32 && length % 4 !== 0) {
          throw new InvalidImageError(`${where} has length ${length}, not a multiple of 4`);
        }
        if (this.offset + length - this.imageStart > MAX_IMAGE_BYTES) {
          throw new InvalidImageError(
            `${where} declares ${length} bytes, which runs past the 16 MiB an ESP image can have; the file is corrupt or not an ESP image`
          );
        }
        if (this.segment === 0) this.firstSegmentLength = length;
        this.segmentAt = this.offset - 8;
        this.segmentLength = this.remaining = length;
        this.step = "segmentData";
        if (length === 0) this.stepDone();
        return;
      }
      case "segmentData":
        if (++this.segment < this.segmentCount) return this.expectField("segmentHeader", 8);
        this.remaining = 15 - (this.offset - this.imageStart) % 16;
        this.step = "padding";
        if (this.remaining === 0) this.step = "checksum";
        return;
      case "padding":
        this.step = "checksum";
        return;
      case "checksum":
        if (this.hash) return this.expectField("digest", 32);
        return this.imageDone();
      case "digest": {
        const computed = this.hash?.digest();
        this.hash = void 0;
        if (!computed?.equals(this.field)) {
          throw new InvalidImageError(
            `the image is corrupt: the appended SHA-256 (${this.field.toString("hex", 0, 4)}\u2026) does not match the contents (${computed?.toString("hex", 0, 4)}\u2026)`
          );
        }
        this.hashAppended = true;
        return this.imageDone();
      }
      case "gap":
        this.image = 1;
        this.imageStart = this.offset;
        return this.expectField("header", 8);
    }
  }
  headerDone() {
    const field = this.field;
    if (this.image === 0 && this.fieldNeed === 12) {
      this.esp32 = field.readUInt32LE(8) === 238;
      if (this.esp32) {
        this.fieldNeed = 24;
        return;
      }
    }
    this.segmentCount = field[1];
    if (this.segmentCount < 1 || this.segmentCount > MAX_SEGMENTS) {
      throw new InvalidImageError(
        `the header declares ${this.segmentCount} segments, expected 1 to ${MAX_SEGMENTS}`
      );
    }
    this.segment = 0;
    this.checksum = 239;
    if (this.esp32) {
      this.chipId = field.readUInt16LE(12);
      if (field[23] > 1) {
        throw new InvalidImageError(
          `header byte 23 (hash_appended) is ${field[23]}, expected 0 or 1`
        );
      }
      if (field[23] === 1) this.hash = createHash("sha256").update(field.subarray(0, 24));
      return this.expectField("segmentHeader", 8);
    }
    const carried = this.fieldLength - 8;
    field.copy(field, 0, 8, this.fieldLength);
    this.expectField("segmentHeader", 8);
    this.fieldLength = carried;
  }
  imageDone() {
    this.imageEnd = this.offset;
    if (!this.esp32 && this.image === 0 && this.offset <= ESP8266_APP_OFFSET) {
      this.remaining = ESP8266_APP_OFFSET - this.offset;
      this.step = "gap";
      if (this.remaining === 0) this.stepDone();
    } else {
      this.step = "trailing";
    }
  }
  /**
   * Bytes after a complete image. A merged image (bootloader first) continues with 0xFF up to
   * the partition table magic AA 50 at a 4 KiB boundary (0x8000 by default); anything else is
   * appended garbage. Both are refused as soon as they are recognised.
   */
  trailing(byte) {
    if (this.partitionTableAt >= 0) {
      if (byte === 80) throw new InvalidImageError(MERGED);
    } else if (byte === 255) {
      return;
    } else if (byte === 170 && this.offset % 4096 === 0 && this.esp32) {
      this.partitionTableAt = this.offset;
      return;
    }
    throw new InvalidImageError(this.trailingReason());
  }
  trailingReason() {
    return `unexpected data after the end of the image at offset 0x${this.imageEnd.toString(16)} (the file must end there; was something appended to firmware.bin?)`;
  }
  expectField(step, need) {
    this.step = step;
    this.fieldNeed = need;
    this.fieldLength = 0;
  }
  incompleteReason() {
    const at = `at offset 0x${this.offset.toString(16)}`;
    switch (this.step) {
      case "header":
        if (this.offset === 0) return "the file is empty";
        if (this.image === 1) {
          return `the image is truncated: the file ends ${at}, in the ESP8266 app image header`;
        }
        if (this.field[0] !== MAGIC) return foreignFile(this.field, this.fieldLength);
        return `the image is truncated: the file ends ${at}, inside the image header`;
      case "segmentHeader":
      case "segmentData": {
        const inHeader = this.step === "segmentHeader";
        const start = inHeader ? this.offset - this.fieldLength : this.segmentAt;
        const length = inHeader ? "" : `, ${this.segmentLength} bytes`;
        return `the image is truncated: segment ${this.segment + 1} of ${this.segmentCount} (at 0x${start.toString(16)}${length}) runs past the end of the file ${at}`;
      }
      case "padding":
      case "checksum":
        return `the image is truncated: the file ends ${at}, before the checksum byte`;
      case "digest":
        return `the image is truncated: the file ends ${at}, inside the appended SHA-256`;
      case "gap":
        return `unexpected data after the end of the image at offset 0x${this.imageEnd.toString(16)} (expected the file to end there, or the ESP8266 app image at 0x1000)`;
      case "trailing":
        return this.trailingReason();
    }
  }
};
function foreignFile(head, length) {
  const start = head.subarray(0, length);
  const startsWith = (magic) => start.subarray(0, magic.length).equals(Buffer.from(magic, "latin1"));
  if (startsWith("\x7FELF")) {
    return `this is an ELF file (firmware.elf); ${UPLOAD_BIN}, not firmware.elf`;
  }
  if (start[0] === 255) return `the file starts with 0xFF padding: ${MERGED}`;
  if (startsWith("\x8B")) return `this is a gzip-compressed file; ${UPLOAD_BIN} uncompressed`;
  if (startsWith("PK")) return `this is a ZIP archive; ${UPLOAD_BIN} from inside it`;
  if (startsWith("UF2\n")) return `this is a UF2 file (for drag-and-drop flashing); ${UPLOAD_BIN}`;
  if (startsWith("\xEF\xBB\xBF") || start.every((b) => b >= 32 && b < 127 || b === 9 || b === 10 || b === 13)) {
    return `this is a text file, not a binary image (expected first byte 0xE9); ${UPLOAD_BIN}`;
  }
  return `expected the ESP image magic byte 0xE9 at offset 0, found 0x${hex(start[0])}`;
}
function cString(buffer, offset, size) {
  const field = buffer.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return field.toString("utf8", 0, end < 0 ? size : end);
}
function hex(byte) {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}

// contract/ota-client.ts
var OTA_CLIENTS = ["iotaap-os", "httpupdate", "esp-https-ota"];
var OTA_CLIENT_MARKS = [
  // IoTaaP OS src/system/definitions.h: OTA_CHECK_DEVICE_URI / OTA_CHECK_GROUP_URI (4.0.1+),
  // OTA_CHECK_DEVICE_URL / OTA_CHECK_GROUP_URL (3.x, 4.0.0), used by src/ota/ota_module.cpp.
  { client: "iotaap-os", mark: "/v1/ota/device/latest/" },
  { client: "iotaap-os", mark: "/v1/ota/group/latest/" },
  // arduino-esp32 HTTPUpdate.cpp and esp8266 ESP8266httpUpdate.cpp, handleUpdate(): request
  // header names. arduino-esp32 1.0.x has the x-ESP32-sketch-md5 line commented out ("To do")
  // and old ESP8266 cores lack x-ESP8266-sketch-md5, so the User-Agent each sets in every
  // version counts too.
  { client: "httpupdate", mark: "x-ESP32-sketch-md5" },
  { client: "httpupdate", mark: "x-ESP8266-sketch-md5" },
  { client: "httpupdate", mark: "ESP32-http-Update" },
  { client: "httpupdate", mark: "ESP8266-http-Update" },
  // ESP-IDF components/esp_https_ota/src/esp_https_ota.c: the log TAG (also the prefix of its
  // "esp_https_ota_begin: Invalid argument" messages), and the event base ESP-IDF 5.x defines,
  // which stays when logging is compiled out.
  { client: "esp-https-ota", mark: "esp_https_ota" },
  { client: "esp-https-ota", mark: "ESP_HTTPS_OTA_EVENT" }
];
var MARKS = OTA_CLIENT_MARKS.map(({ client, mark }) => ({
  client,
  bytes: Buffer.from(mark, "latin1")
}));
var CARRY = Math.max(...MARKS.map(({ bytes }) => bytes.length)) - 1;
var OtaClientScanner = class {
  found = /* @__PURE__ */ new Set();
  /** The last (up to CARRY) bytes seen, then room for as many of the next chunk's. */
  joint = Buffer.alloc(2 * CARRY);
  carried = 0;
  update(chunk) {
    if (this.found.size === OTA_CLIENTS.length || chunk.length === 0) return;
    const head = Math.min(chunk.length, CARRY);
    chunk.copy(this.joint, this.carried, 0, head);
    const joint = this.joint.subarray(0, this.carried + head);
    for (const { client, bytes } of MARKS) {
      if (this.found.has(client)) continue;
      if (joint.indexOf(bytes) !== -1 || chunk.indexOf(bytes) !== -1) this.found.add(client);
    }
    if (chunk.length >= CARRY) {
      chunk.copy(this.joint, 0, chunk.length - CARRY);
      this.carried = CARRY;
    } else {
      const keep = Math.min(CARRY, this.carried + chunk.length);
      this.joint.copy(this.joint, 0, this.carried + chunk.length - keep, this.carried + head);
      this.carried = keep;
    }
  }
  /** The clients whose marks appeared so far, in OTA_CLIENTS order; [] for none. */
  clients() {
    return OTA_CLIENTS.filter((client) => this.found.has(client));
  }
};

// contract/firmware-inspector.ts
var FirmwareInspector = class {
  size = 0;
  sha256 = createHash2("sha256");
  md5 = createHash2("md5");
  validator = new EspImageValidator();
  clients = new OtaClientScanner();
  imageError;
  update(chunk) {
    this.size += chunk.length;
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.clients.update(chunk);
    if (this.imageError === void 0) {
      try {
        this.validator.update(chunk);
      } catch (err) {
        this.imageError = imageErrorMessage(err);
      }
    }
  }
  /** Call once, after the last chunk. */
  finish() {
    let image = { error: this.imageError ?? "" };
    if (this.imageError === void 0) {
      try {
        image = this.validator.finish();
      } catch (err) {
        image = { error: imageErrorMessage(err) };
      }
    }
    return {
      size: this.size,
      sha256: this.sha256.digest("hex"),
      md5: this.md5.digest("hex"),
      image,
      otaClient: this.clients.clients()
    };
  }
};
function imageErrorMessage(err) {
  if (err instanceof InvalidImageError) return err.message;
  throw err;
}

// action/firmware.ts
async function locateFirmware(options, logger) {
  if (options.firmware !== void 0) {
    logger?.debug(`Firmware: ${options.firmware} (given by the firmware setting).`);
    if (!await isFile(options.firmware)) {
      throw new DeployError(firmwareNotFile(options.firmware));
    }
    return options.firmware;
  }
  const buildDir = path2.join(options.projectDir, ".pio", "build");
  const environment = options.environment ?? await defaultEnvironment(options.projectDir);
  if (environment !== void 0) {
    const file = path2.join(buildDir, environment, "firmware.bin");
    logger?.debug(`Firmware: ${file} (the build of environment "${environment}").`);
    if (!await isFile(file)) {
      throw new DeployError(noBuiltFirmware(file, environment));
    }
    return file;
  }
  const candidates = await firmwareCandidates(buildDir);
  logger?.debug(
    `No environment given or set as default; candidates under ${buildDir}: ` + (candidates.length > 0 ? candidates.join(", ") : "none") + "."
  );
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    throw new DeployError(noFirmwareUnder(buildDir));
  }
  throw new DeployError(severalFirmwares(candidates));
}
async function firmwareCandidates(buildDir) {
  let entries;
  try {
    entries = await readdir(buildDir);
  } catch {
    return [];
  }
  const files = entries.sort().map((env) => path2.join(buildDir, env, "firmware.bin"));
  const present = await Promise.all(files.map(isFile));
  return files.filter((_, i) => present[i]);
}
async function defaultEnvironment(projectDir) {
  let ini;
  try {
    ini = await readFile(path2.join(projectDir, "platformio.ini"), "utf8");
  } catch {
    return void 0;
  }
  const envs = [];
  let defaults;
  let section = "";
  for (const rawLine of ini.split(/\r?\n/)) {
    const line = rawLine.replace(/\s[;#].*$/, "").trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      const env = /^env:(.+)$/.exec(section);
      if (env) envs.push(env[1].trim());
      continue;
    }
    const option = /^default_envs\s*=\s*(.*)$/.exec(line);
    if (section === "platformio" && option) {
      defaults = option[1].split(/[\s,]+/).filter((e) => e !== "");
    }
  }
  if (defaults !== void 0) return defaults.length === 1 ? defaults[0] : void 0;
  return envs.length === 1 ? envs[0] : void 0;
}
async function isFile(file) {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
async function inspectFirmware(file, version) {
  const inspector = new FirmwareInspector();
  const finder = new VersionFinder(version);
  try {
    for await (const chunk of createReadStream(file)) {
      inspector.update(chunk);
      finder.push(chunk);
    }
  } catch (error) {
    throw new DeployError(firmwareUnreadable(file, error.message));
  }
  const { size, sha256, md5, image, otaClient } = inspector.finish();
  if ("error" in image) throw new DeployError(invalidImage(file, image.error));
  return {
    path: file,
    size,
    sha256,
    md5,
    chip: image.chip,
    containsVersion: finder.found(),
    otaClient
  };
}
var isVersionChar = (byte) => byte !== void 0 && /[0-9A-Za-z.+-]/.test(String.fromCharCode(byte));
var isDigitOrDot = (byte) => byte !== void 0 && /[0-9.]/.test(String.fromCharCode(byte));
var VersionFinder = class {
  needle;
  /** The unexamined end of the data so far, plus the byte before it. */
  carry = Buffer.alloc(0);
  /** Absolute offset of carry[0] in the image. */
  offset = 0;
  /** Absolute offset where the next match may start. */
  next = 0;
  matched = false;
  constructor(version) {
    this.needle = Buffer.from(version, "latin1");
  }
  push(chunk) {
    if (this.matched) return;
    const window = Buffer.concat([this.carry, chunk]);
    let from = this.next - this.offset;
    for (; ; ) {
      const at = window.indexOf(this.needle, from);
      if (at === -1) {
        from = Math.max(from, window.length - this.needle.length + 1);
        break;
      }
      if (at + this.needle.length >= window.length) {
        from = at;
        break;
      }
      if (this.accept(window, at, window[at + this.needle.length])) {
        this.matched = true;
        return;
      }
      from = at + 1;
    }
    const keepFrom = Math.max(0, from - 1);
    this.carry = window.subarray(keepFrom);
    this.next = this.offset + from;
    this.offset += keepFrom;
  }
  /** Call after the last chunk: a match at the very end of the image counts too. */
  found() {
    if (this.matched) return true;
    const at = this.carry.indexOf(this.needle, this.next - this.offset);
    return at !== -1 && at + this.needle.length === this.carry.length && this.accept(this.carry, at, void 0);
  }
  accept(window, at, after) {
    return !isDigitOrDot(at > 0 ? window[at - 1] : void 0) && !isVersionChar(after);
  }
};

// action/platformio.ts
function versionFlag(version) {
  return `-DFIRMWARE_VERSION=\\"${version}\\"`;
}
function buildFlags(existing, version) {
  const flag = versionFlag(version);
  return existing && existing.trim() !== "" ? `${existing} ${flag}` : flag;
}
var PlatformIO = class {
  constructor(runner, logger, env = process.env) {
    this.runner = runner;
    this.logger = logger;
    this.env = env;
  }
  runner;
  logger;
  env;
  /** Finds PlatformIO on PATH, or installs it with pip when allowed. */
  async locate(install) {
    const found = await this.runner.which("pio") ?? await this.runner.which("platformio");
    if (found !== void 0) return { command: found, args: [] };
    if (!install) {
      throw new DeployError(pioMissing);
    }
    const python = await this.runner.which("python3") ?? await this.runner.which("python");
    if (python === void 0) {
      throw new DeployError(pioNoPython);
    }
    this.logger.info("PlatformIO (pio) is not on PATH; installing it with pip.");
    const code = await this.runner.run(python, ["-m", "pip", "install", "--upgrade", "platformio"]);
    if (code !== 0) {
      throw new DeployError(pioInstallFailed(code));
    }
    const installed = await this.runner.which("pio");
    return installed !== void 0 ? { command: installed, args: [] } : { command: python, args: ["-m", "platformio"] };
  }
  /** `pio run -d <project> [-e <env>]`, with FIRMWARE_VERSION defined when asked. */
  async build(pio, options) {
    const args = [...pio.args, "run", "-d", options.projectDir];
    if (options.environment !== void 0) args.push("-e", options.environment);
    const env = {};
    if (options.injectVersion !== void 0) {
      env["PLATFORMIO_BUILD_FLAGS"] = buildFlags(
        this.env["PLATFORMIO_BUILD_FLAGS"],
        options.injectVersion
      );
      this.logger.info(`Defining FIRMWARE_VERSION as "${options.injectVersion}" for the build.`);
    }
    const code = await this.runner.run(pio.command, args, { env });
    if (code !== 0) {
      throw new DeployError(pioRunFailed(code));
    }
  }
};

// action/multipart.ts
import { randomBytes } from "node:crypto";
import { createReadStream as createReadStream2 } from "node:fs";
var MultipartBody = class {
  constructor(fields, file, boundary = `----ota-deploy-${randomBytes(12).toString("hex")}`) {
    this.file = file;
    this.boundary = boundary;
    this.contentType = `multipart/form-data; boundary=${boundary}`;
    const parts = fields.map(
      ([name, value]) => `--${boundary}\r
Content-Disposition: form-data; name="${quote(name)}"\r
\r
${value}\r
`
    );
    parts.push(
      `--${boundary}\r
Content-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.filename)}"\r
Content-Type: application/octet-stream\r
\r
`
    );
    this.head = Buffer.from(parts.join(""), "utf8");
    this.tail = Buffer.from(`\r
--${boundary}--\r
`, "utf8");
    this.length = this.head.length + file.size + this.tail.length;
  }
  file;
  boundary;
  contentType;
  length;
  head;
  tail;
  async *stream() {
    yield this.head;
    let sent = 0;
    for await (const chunk of createReadStream2(this.file.path)) {
      const bytes = chunk;
      sent += bytes.length;
      yield bytes;
    }
    if (sent !== this.file.size) {
      throw new Error(
        `${this.file.path} changed while it was uploaded (${this.file.size} bytes expected, ${sent} read).`
      );
    }
    yield this.tail;
  }
};
function quote(value) {
  return value.replace(/["\r\n]/g, (c) => encodeURIComponent(c));
}

// action/retry.ts
var DEFAULT_BACKOFF = {
  baseDelayMs: 1e3,
  maxDelayMs: 3e4,
  maxRetryAfterMs: 12e4
};
var sleep = (ms) => new Promise((resolve3) => setTimeout(resolve3, ms));
function isRetryableStatus(status) {
  return status === 429 || status >= 500;
}
function retryDelay(retry, backoff, retryAfter = null, now = Date.now()) {
  const asked = retryAfter === null ? void 0 : parseRetryAfter(retryAfter, now);
  if (asked !== void 0) return Math.min(asked, backoff.maxRetryAfterMs);
  return Math.min(backoff.baseDelayMs * 2 ** retry, backoff.maxDelayMs);
}
function parseRetryAfter(value, now = Date.now()) {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1e3;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return void 0;
  return Math.max(0, date - now);
}

// action/registry-client.ts
var TIMEOUT_MS = 3e5;
var UPLOAD_ROUTES = {
  device: { path: "/v1/ota/device", idField: "device" },
  group: { path: "/v1/ota/group", idField: "group" }
};
function uploadUrl(registryUrl, kind) {
  return `${registryUrl}${UPLOAD_ROUTES[kind].path}`;
}
var ALREADY_DEPLOYED = /already deployed/i;
var USER_AGENT = "ota-deploy";
var RegistryClient = class {
  constructor(options) {
    this.options = options;
    this.sleep = options.sleep ?? sleep;
  }
  options;
  sleep;
  /** `POST /v1/auth/login`: a session token for the account. */
  async login(email, password) {
    const response = await this.send("Login", "/v1/auth/login", () => ({
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": USER_AGENT },
      body: JSON.stringify({ email, password })
    }));
    const body = await readJson(response);
    if (!response.ok) {
      throw new RegistryError(
        loginFailed(response.status, errorText(body)),
        response.status,
        errorText(body)
      );
    }
    const token = isRecord(body) ? body["token"] : void 0;
    if (typeof token !== "string" || token === "") {
      throw new DeployError(loginWithoutToken);
    }
    return token;
  }
  /** Multipart upload of `firmware` as `version` to `target`, authorised by `authToken`. */
  async upload(authToken, target, version, firmware, options = {}) {
    const route = UPLOAD_ROUTES[target.kind];
    const fields = [
      [route.idField, target.id],
      ["token", target.token],
      ["version", version]
    ];
    if (options.trigger !== void 0) fields.push(["trigger", String(options.trigger)]);
    if (options.rollout) {
      fields.push(["rollout", options.rollout.join(",")], ["rollout_advance", "auto"]);
    }
    const body = new MultipartBody(fields, {
      field: "firmware",
      filename: "firmware.bin",
      path: firmware.path,
      size: firmware.size
    });
    const response = await this.send("Upload", route.path, () => ({
      method: "POST",
      headers: {
        authorization: `Bearer ${authToken}`,
        "content-type": body.contentType,
        "content-length": String(body.length),
        "user-agent": USER_AGENT
      },
      body: body.stream(),
      duplex: "half"
    }));
    const answer = await readJson(response);
    const text = errorText(answer);
    if (response.ok) {
      const already = response.status === 200 && text !== void 0 && ALREADY_DEPLOYED.test(text);
      const triggered2 = isRecord(answer) ? answer["triggered"] : void 0;
      const triggerError = isRecord(answer) ? answer["trigger_error"] : void 0;
      return {
        status: already ? "already-deployed" : "deployed",
        message: text ?? "Firmware successfully deployed",
        ...typeof triggered2 === "boolean" ? { triggered: triggered2 } : {},
        ...typeof triggerError === "string" ? { triggerError } : {}
      };
    }
    throw new RegistryError(
      uploadFailed(response.status, text, {
        registryUrl: this.options.registryUrl,
        target: target.kind,
        version,
        size: firmware.size
      }),
      response.status,
      text
    );
  }
  /** An authorised GET of the management API (with retries): the status and the JSON body. */
  async get(authToken, path6) {
    const response = await this.send("Status", path6, () => ({
      method: "GET",
      headers: { authorization: `Bearer ${authToken}`, "user-agent": USER_AGENT }
    }));
    return { status: response.status, body: await readJson(response) };
  }
  /**
   * One request with retries. `init` is called per attempt because a streamed body can be
   * read only once. Returns the first answer that is not retried (which may be an error).
   */
  async send(what, path6, init) {
    const url = `${this.options.registryUrl}${path6}`;
    const attempts = this.options.retries + 1;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= attempts;
      let response;
      const request = init();
      const started = Date.now();
      this.options.logger.debug(
        `${request.method ?? "GET"} ${url} (attempt ${attempt + 1} of ${attempts})`
      );
      try {
        response = await fetch(url, {
          ...request,
          signal: AbortSignal.timeout(TIMEOUT_MS)
        });
      } catch (error) {
        const cause = describeNetworkError(error);
        this.options.logger.debug(`${what}: no answer after ${Date.now() - started} ms (${cause})`);
        if (last)
          throw new DeployError(unreachable(this.options.registryUrl, attempts, cause));
        const delay2 = retryDelay(attempt, DEFAULT_BACKOFF);
        this.options.logger.warning(
          retrying(`${what} failed: ${cause}`, delay2, attempt + 2, attempts)
        );
        await this.sleep(delay2);
        continue;
      }
      this.options.logger.debug(
        `${what}: the registry answered ${response.status} after ${Date.now() - started} ms`
      );
      if (last || !isRetryableStatus(response.status)) return response;
      const text = errorText(await readJson(response));
      const delay = retryDelay(attempt, DEFAULT_BACKOFF, response.headers.get("retry-after"));
      const answer = text ? `${response.status}: "${text}"` : String(response.status);
      this.options.logger.warning(
        retrying(`${what}: the registry answered ${answer}`, delay, attempt + 2, attempts)
      );
      await this.sleep(delay);
    }
  }
};
async function readJson(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text.trim() === "" ? void 0 : text.trim().slice(0, 200);
  }
}
function errorText(body) {
  if (typeof body === "string") return body.startsWith("<") ? void 0 : body;
  if (!isRecord(body)) return void 0;
  for (const key of ["message", "error"]) {
    const value = body[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return void 0;
}
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function describeNetworkError(error) {
  const outer = typeof error === "object" && error !== null ? error : {};
  if (outer.name === "TimeoutError") return "no answer in time";
  const inner = typeof outer.cause === "object" && outer.cause !== null ? outer.cause : void 0;
  const detail = typeof inner?.message === "string" ? inner : outer;
  const message = typeof detail.message === "string" ? detail.message : String(error);
  const code = typeof detail.code === "string" ? detail.code : void 0;
  return code !== void 0 && !message.includes(code) ? `${message} (${code})` : message;
}

// action/wait.ts
var POLL_MS = 5e3;
var PROGRESS_MS = 3e4;
async function waitForFleet(options) {
  const { logger, target, version, waitMs } = options;
  const sleep2 = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const started = now();
  const since = new Date(started).toISOString();
  let lastProgress = started;
  let report;
  logger.info(
    `Waiting up to ${formatDuration(waitMs)} for ${target.kind} ${target.id} to verify ${version}.`
  );
  for (; ; ) {
    try {
      report = await look(options, since, now() - started);
    } catch (error) {
      logger.warning(`Could not ask the registry for progress: ${error.message}`);
    }
    const elapsed = now() - started;
    if (report && report.outcome !== "timed-out") return { ...report, waitedMs: elapsed };
    if (elapsed >= waitMs) {
      return { ...report ?? emptyReport(options), outcome: "timed-out", waitedMs: elapsed };
    }
    if (report && now() - lastProgress >= (options.progressMs ?? PROGRESS_MS)) {
      lastProgress = now();
      logger.info(`${progressLine(report)}; ${formatDuration(waitMs - elapsed)} left.`);
    }
    await sleep2(Math.min(options.pollMs ?? POLL_MS, Math.max(0, waitMs - elapsed)));
  }
}
async function look(options, since, elapsed) {
  const { client, authToken, target, version } = options;
  const base = { version, target: { kind: target.kind, id: target.id }, waitedMs: elapsed };
  if (target.kind === "group") {
    const { status: status2, body: body2 } = await client.get(authToken, `/v1/ota/group/${target.id}/rollout`);
    if (status2 !== 200 || !isRollout(body2)) {
      throw new Error(`the registry answered ${status2} for the rollout`);
    }
    const outcome = body2.state === "completed" ? "verified" : body2.state === "halted" || body2.state === "aborted" ? "failed" : "timed-out";
    return {
      ...base,
      outcome: body2.version === version ? outcome : "failed",
      state: body2.version === version ? body2.state : `replaced by ${body2.version}`,
      phase: `phase ${body2.phase + 1} of ${body2.phases.length} (${body2.phases[body2.phase]}%)`,
      verified: body2.devices.verified,
      downloaded: body2.devices.downloaded,
      failed: body2.devices.failed,
      silent: body2.devices.silent ?? 0,
      failures: body2.failures.map(({ device, reason }) => ({ device, reason }))
    };
  }
  const { status, body } = await client.get(authToken, `/v1/devices/${target.id}`);
  if (status !== 200 || !isDevice(body)) {
    throw new Error(`the registry answered ${status} for the device`);
  }
  const verified = body.running_version === version;
  const response = body.last_update_response;
  const refused = !verified && response?.code === 203 && response.at >= since;
  const heard = (body.last_contact ?? "") >= since;
  return {
    ...base,
    outcome: verified ? "verified" : refused ? "failed" : "timed-out",
    verified: verified ? 1 : 0,
    downloaded: 0,
    failed: refused ? 1 : 0,
    silent: heard ? 0 : 1,
    failures: refused ? [
      {
        device: target.id,
        reason: `answered 203 (update failed); it runs ${body.running_version ?? "an unknown version"}`
      }
    ] : []
  };
}
function fleetFailure(report) {
  const named = report.failures.slice(0, 20).map(({ device, reason }) => `${device}: ${reason}`).join("; ");
  const more = report.failures.length > 20 ? ` (and ${report.failures.length - 20} more)` : "";
  const failures = named ? ` Failed devices: ${named}${more}.` : "";
  const what = report.outcome === "timed-out" ? `${report.version} was not verified on ${report.target.kind} ${report.target.id} within ${formatDuration(report.waitedMs)}` : report.target.kind === "group" ? `The rollout of ${report.version} to group ${report.target.id} is ${report.state}` : `Device ${report.target.id} did not take ${report.version}`;
  const recover = report.target.kind === "group" && report.state === "halted" ? " Nobody new gets it until POST /v1/ota/group/<id>/rollout/resume; abort serves the previous version again (docs/rollouts.md)." : "";
  return new DeployError(`${what}: ${progressLine(report)}.${failures}${recover}`);
}
function progressLine(report) {
  const where = report.state ? `${report.state}, ${report.phase}: ` : "";
  return `${where}${report.verified} verified, ${report.downloaded} downloaded, ${report.failed} failed, ${report.silent} silent`;
}
function emptyReport(options) {
  return {
    outcome: "timed-out",
    version: options.version,
    target: { kind: options.target.kind, id: options.target.id },
    verified: 0,
    downloaded: 0,
    failed: 0,
    silent: 0,
    failures: [],
    waitedMs: 0
  };
}
function formatDuration(ms) {
  const total = Math.round(ms / 1e3);
  const h = Math.floor(total / 3600);
  const m = Math.floor(total % 3600 / 60);
  const s = total % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", s || !h && !m ? `${s}s` : ""].join("");
}
function isRollout(body) {
  const b = body;
  return typeof b === "object" && b !== null && typeof b.state === "string" && Array.isArray(b.phases) && typeof b.devices === "object" && Array.isArray(b.failures);
}
function isDevice(body) {
  return typeof body === "object" && body !== null && "running_version" in body;
}

// action/deploy.ts
async function deploy(settings, deps) {
  const { logger } = deps;
  maskSecrets(settings.credentials, settings.target, logger);
  logger.info(`ota-deploy ${packageVersion()}`);
  logger.debug(`Settings: ${describeSettings(settings)}`);
  logger.info(
    `Deploying version ${settings.version} to ${settings.target.kind} ${settings.target.id} at ${settings.registryUrl}.`
  );
  if (settings.build) {
    const pio = new PlatformIO(deps.runner, logger);
    const command = await pio.locate(settings.installPlatformio);
    await pio.build(command, {
      projectDir: settings.projectDir,
      ...settings.environment !== void 0 ? { environment: settings.environment } : {},
      ...settings.injectVersion ? { injectVersion: settings.version } : {}
    });
  }
  const file = await locateFirmware(
    {
      projectDir: settings.projectDir,
      ...settings.environment !== void 0 ? { environment: settings.environment } : {},
      ...settings.firmware !== void 0 ? { firmware: settings.firmware } : {}
    },
    logger
  );
  const info = await inspectFirmware(file, settings.version);
  logger.info(
    `Firmware ${file}: ${info.size} bytes, ${chipLabel(info.chip)} image, SHA-256 ${info.sha256}.`
  );
  let versionFound;
  if (settings.verifyVersion !== "off") {
    versionFound = info.containsVersion;
    if (versionFound) {
      logger.info(`The image contains its version string "${settings.version}".`);
    } else if (settings.verifyVersion === "fail") {
      throw new DeployError(versionMissing(settings.version, file));
    } else {
      logger.warning(versionMissing(settings.version, file));
    }
  }
  const otaClient = checkOtaClient(settings, info, logger);
  if (settings.dryRun) {
    const url = uploadUrl(settings.registryUrl, settings.target.kind);
    const message = dryRun(settings, file, info.size, url);
    logger.info(message);
    return {
      ...describeImage(settings, file, info),
      status: "dry-run",
      message,
      versionFound,
      otaClient,
      triggered: void 0
    };
  }
  const client = new RegistryClient({
    registryUrl: settings.registryUrl,
    retries: settings.retries,
    logger,
    ...deps.sleep ? { sleep: deps.sleep } : {}
  });
  const authToken = await authenticate(client, settings.credentials, logger);
  logger.info(`Uploading ${info.size} bytes.`);
  const outcome = await client.upload(
    authToken,
    settings.target,
    settings.version,
    { path: file, size: info.size },
    {
      ...settings.trigger !== void 0 ? { trigger: settings.trigger } : {},
      ...settings.rollout !== void 0 ? { rollout: settings.rollout } : {}
    }
  );
  logger.info(
    outcome.status === "deployed" ? `Deployed: the registry now offers ${settings.version} (${outcome.message}).` : `Already deployed: the registry has these exact bytes as ${settings.version} (${outcome.message}).`
  );
  if (outcome.triggered) {
    logger.info(triggered(settings.target.kind));
  } else if (outcome.triggerError !== void 0) {
    logger.warning(triggerFailed(outcome.triggerError));
  }
  const fleet = settings.waitMs !== void 0 ? await waitForFleet({
    client,
    authToken,
    target: settings.target,
    version: settings.version,
    waitMs: settings.waitMs,
    logger
  }) : void 0;
  if (fleet) {
    await deps.onFleetReport?.(fleet);
    if (fleet.outcome !== "verified") throw fleetFailure(fleet);
    logger.info(`Verified: ${progressLine(fleet)}.`);
  }
  return {
    ...describeImage(settings, file, info),
    status: outcome.status,
    message: outcome.message,
    versionFound,
    otaClient,
    triggered: outcome.triggered,
    ...outcome.triggerError !== void 0 ? { triggerError: outcome.triggerError } : {},
    ...fleet ? { fleet } : {}
  };
}
function describeImage(settings, file, info) {
  return {
    registryUrl: settings.registryUrl,
    target: { kind: settings.target.kind, id: settings.target.id },
    version: settings.version,
    firmware: file,
    size: info.size,
    chip: info.chip,
    sha256: info.sha256,
    md5: info.md5
  };
}
function checkOtaClient(settings, info, logger) {
  if (settings.verifyOtaClient === "off") return void 0;
  if (info.otaClient.length > 0) {
    logger.info(`The image carries an OTA client: ${info.otaClient.join(", ")}.`);
  } else if (settings.verifyOtaClient === "fail") {
    throw new DeployError(otaClientMissing(info.path));
  } else {
    logger.warning(otaClientMissing(info.path));
  }
  return info.otaClient;
}
async function authenticate(client, credentials, logger) {
  if (credentials.kind === "api-token") return credentials.apiToken;
  logger.info("Logging in to the registry.");
  const token = await client.login(credentials.email, credentials.password);
  logger.setSecret(token);
  return token;
}
function maskSecrets(credentials, target, logger) {
  const secrets = [target.token, `${target.id}${target.token}`];
  if (credentials.kind === "api-token") {
    secrets.push(credentials.apiToken);
  } else {
    const { password } = credentials;
    secrets.push(password, JSON.stringify(password).slice(1, -1), encodeURIComponent(password));
  }
  for (const secret of new Set(secrets)) logger.setSecret(secret);
}
function describeSettings(settings) {
  const { credentials, target, ...rest } = settings;
  return JSON.stringify({
    ...rest,
    credentials: credentials.kind,
    target: { kind: target.kind, id: target.id }
  });
}

// node_modules/@actions/exec/lib/toolrunner.js
import * as os from "os";
import * as events from "events";
import * as child from "child_process";
import * as path5 from "path";

// node_modules/@actions/io/lib/io.js
import * as path4 from "path";

// node_modules/@actions/io/lib/io-util.js
import * as fs from "fs";
import * as path3 from "path";
var __awaiter = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve3) {
      resolve3(value);
    });
  }
  return new (P || (P = Promise))(function(resolve3, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve3(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var { chmod, copyFile, lstat, mkdir, open, readdir: readdir2, rename, rm, rmdir, stat: stat2, symlink, unlink } = fs.promises;
var IS_WINDOWS = process.platform === "win32";
var READONLY = fs.constants.O_RDONLY;
function exists(fsPath) {
  return __awaiter(this, void 0, void 0, function* () {
    try {
      yield stat2(fsPath);
    } catch (err) {
      if (err.code === "ENOENT") {
        return false;
      }
      throw err;
    }
    return true;
  });
}
function isRooted(p) {
  p = normalizeSeparators(p);
  if (!p) {
    throw new Error('isRooted() parameter "p" cannot be empty');
  }
  if (IS_WINDOWS) {
    return p.startsWith("\\") || /^[A-Z]:/i.test(p);
  }
  return p.startsWith("/");
}
function tryGetExecutablePath(filePath, extensions) {
  return __awaiter(this, void 0, void 0, function* () {
    let stats = void 0;
    try {
      stats = yield stat2(filePath);
    } catch (err) {
      if (err.code !== "ENOENT") {
        console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
      }
    }
    if (stats && stats.isFile()) {
      if (IS_WINDOWS) {
        const upperExt = path3.extname(filePath).toUpperCase();
        if (extensions.some((validExt) => validExt.toUpperCase() === upperExt)) {
          return filePath;
        }
      } else {
        if (isUnixExecutable(stats)) {
          return filePath;
        }
      }
    }
    const originalFilePath = filePath;
    for (const extension of extensions) {
      filePath = originalFilePath + extension;
      stats = void 0;
      try {
        stats = yield stat2(filePath);
      } catch (err) {
        if (err.code !== "ENOENT") {
          console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
        }
      }
      if (stats && stats.isFile()) {
        if (IS_WINDOWS) {
          try {
            const directory = path3.dirname(filePath);
            const upperName = path3.basename(filePath).toUpperCase();
            for (const actualName of yield readdir2(directory)) {
              if (upperName === actualName.toUpperCase()) {
                filePath = path3.join(directory, actualName);
                break;
              }
            }
          } catch (err) {
            console.log(`Unexpected error attempting to determine the actual case of the file '${filePath}': ${err}`);
          }
          return filePath;
        } else {
          if (isUnixExecutable(stats)) {
            return filePath;
          }
        }
      }
    }
    return "";
  });
}
function normalizeSeparators(p) {
  p = p || "";
  if (IS_WINDOWS) {
    p = p.replace(/\//g, "\\");
    return p.replace(/\\\\+/g, "\\");
  }
  return p.replace(/\/\/+/g, "/");
}
function isUnixExecutable(stats) {
  return (stats.mode & 1) > 0 || (stats.mode & 8) > 0 && process.getgid !== void 0 && stats.gid === process.getgid() || (stats.mode & 64) > 0 && process.getuid !== void 0 && stats.uid === process.getuid();
}

// node_modules/@actions/io/lib/io.js
var __awaiter2 = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve3) {
      resolve3(value);
    });
  }
  return new (P || (P = Promise))(function(resolve3, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve3(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
function which(tool, check) {
  return __awaiter2(this, void 0, void 0, function* () {
    if (!tool) {
      throw new Error("parameter 'tool' is required");
    }
    if (check) {
      const result = yield which(tool, false);
      if (!result) {
        if (IS_WINDOWS) {
          throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also verify the file has a valid extension for an executable file.`);
        } else {
          throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also check the file mode to verify the file is executable.`);
        }
      }
      return result;
    }
    const matches = yield findInPath(tool);
    if (matches && matches.length > 0) {
      return matches[0];
    }
    return "";
  });
}
function findInPath(tool) {
  return __awaiter2(this, void 0, void 0, function* () {
    if (!tool) {
      throw new Error("parameter 'tool' is required");
    }
    const extensions = [];
    if (IS_WINDOWS && process.env["PATHEXT"]) {
      for (const extension of process.env["PATHEXT"].split(path4.delimiter)) {
        if (extension) {
          extensions.push(extension);
        }
      }
    }
    if (isRooted(tool)) {
      const filePath = yield tryGetExecutablePath(tool, extensions);
      if (filePath) {
        return [filePath];
      }
      return [];
    }
    if (tool.includes(path4.sep)) {
      return [];
    }
    const directories = [];
    if (process.env.PATH) {
      for (const p of process.env.PATH.split(path4.delimiter)) {
        if (p) {
          directories.push(p);
        }
      }
    }
    const matches = [];
    for (const directory of directories) {
      const filePath = yield tryGetExecutablePath(path4.join(directory, tool), extensions);
      if (filePath) {
        matches.push(filePath);
      }
    }
    return matches;
  });
}

// node_modules/@actions/exec/lib/toolrunner.js
import { setTimeout as setTimeout2 } from "timers";
var __awaiter3 = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve3) {
      resolve3(value);
    });
  }
  return new (P || (P = Promise))(function(resolve3, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve3(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var IS_WINDOWS2 = process.platform === "win32";
var ToolRunner = class extends events.EventEmitter {
  constructor(toolPath, args, options) {
    super();
    if (!toolPath) {
      throw new Error("Parameter 'toolPath' cannot be null or empty.");
    }
    this.toolPath = toolPath;
    this.args = args || [];
    this.options = options || {};
  }
  _debug(message) {
    if (this.options.listeners && this.options.listeners.debug) {
      this.options.listeners.debug(message);
    }
  }
  _getCommandString(options, noPrefix) {
    const toolPath = this._getSpawnFileName();
    const args = this._getSpawnArgs(options);
    let cmd = noPrefix ? "" : "[command]";
    if (IS_WINDOWS2) {
      if (this._isCmdFile()) {
        cmd += toolPath;
        for (const a of args) {
          cmd += ` ${a}`;
        }
      } else if (options.windowsVerbatimArguments) {
        cmd += `"${toolPath}"`;
        for (const a of args) {
          cmd += ` ${a}`;
        }
      } else {
        cmd += this._windowsQuoteCmdArg(toolPath);
        for (const a of args) {
          cmd += ` ${this._windowsQuoteCmdArg(a)}`;
        }
      }
    } else {
      cmd += toolPath;
      for (const a of args) {
        cmd += ` ${a}`;
      }
    }
    return cmd;
  }
  _processLineBuffer(data, strBuffer, onLine) {
    try {
      let s = strBuffer + data.toString();
      let n = s.indexOf(os.EOL);
      while (n > -1) {
        const line = s.substring(0, n);
        onLine(line);
        s = s.substring(n + os.EOL.length);
        n = s.indexOf(os.EOL);
      }
      return s;
    } catch (err) {
      this._debug(`error processing line. Failed with error ${err}`);
      return "";
    }
  }
  _getSpawnFileName() {
    if (IS_WINDOWS2) {
      if (this._isCmdFile()) {
        return process.env["COMSPEC"] || "cmd.exe";
      }
    }
    return this.toolPath;
  }
  _getSpawnArgs(options) {
    if (IS_WINDOWS2) {
      if (this._isCmdFile()) {
        let argline = `/D /S /C "${this._windowsQuoteCmdArg(this.toolPath)}`;
        for (const a of this.args) {
          argline += " ";
          argline += options.windowsVerbatimArguments ? a : this._windowsQuoteCmdArg(a);
        }
        argline += '"';
        return [argline];
      }
    }
    return this.args;
  }
  _endsWith(str, end) {
    return str.endsWith(end);
  }
  _isCmdFile() {
    const upperToolPath = this.toolPath.toUpperCase();
    return this._endsWith(upperToolPath, ".CMD") || this._endsWith(upperToolPath, ".BAT");
  }
  _windowsQuoteCmdArg(arg) {
    if (!this._isCmdFile()) {
      return this._uvQuoteCmdArg(arg);
    }
    if (!arg) {
      return '""';
    }
    const cmdSpecialChars = [
      " ",
      "	",
      "&",
      "(",
      ")",
      "[",
      "]",
      "{",
      "}",
      "^",
      "=",
      ";",
      "!",
      "'",
      "+",
      ",",
      "`",
      "~",
      "|",
      "<",
      ">",
      '"'
    ];
    let needsQuotes = false;
    for (const char of arg) {
      if (cmdSpecialChars.some((x) => x === char)) {
        needsQuotes = true;
        break;
      }
    }
    if (!needsQuotes) {
      return arg;
    }
    let reverse = '"';
    let quoteHit = true;
    for (let i = arg.length; i > 0; i--) {
      reverse += arg[i - 1];
      if (quoteHit && arg[i - 1] === "\\") {
        reverse += "\\";
      } else if (arg[i - 1] === '"') {
        quoteHit = true;
        reverse += '"';
      } else {
        quoteHit = false;
      }
    }
    reverse += '"';
    return reverse.split("").reverse().join("");
  }
  _uvQuoteCmdArg(arg) {
    if (!arg) {
      return '""';
    }
    if (!arg.includes(" ") && !arg.includes("	") && !arg.includes('"')) {
      return arg;
    }
    if (!arg.includes('"') && !arg.includes("\\")) {
      return `"${arg}"`;
    }
    let reverse = '"';
    let quoteHit = true;
    for (let i = arg.length; i > 0; i--) {
      reverse += arg[i - 1];
      if (quoteHit && arg[i - 1] === "\\") {
        reverse += "\\";
      } else if (arg[i - 1] === '"') {
        quoteHit = true;
        reverse += "\\";
      } else {
        quoteHit = false;
      }
    }
    reverse += '"';
    return reverse.split("").reverse().join("");
  }
  _cloneExecOptions(options) {
    options = options || {};
    const result = {
      cwd: options.cwd || process.cwd(),
      env: options.env || process.env,
      silent: options.silent || false,
      windowsVerbatimArguments: options.windowsVerbatimArguments || false,
      failOnStdErr: options.failOnStdErr || false,
      ignoreReturnCode: options.ignoreReturnCode || false,
      delay: options.delay || 1e4
    };
    result.outStream = options.outStream || process.stdout;
    result.errStream = options.errStream || process.stderr;
    return result;
  }
  _getSpawnOptions(options, toolPath) {
    options = options || {};
    const result = {};
    result.cwd = options.cwd;
    result.env = options.env;
    result["windowsVerbatimArguments"] = options.windowsVerbatimArguments || this._isCmdFile();
    if (options.windowsVerbatimArguments) {
      result.argv0 = `"${toolPath}"`;
    }
    return result;
  }
  /**
   * Exec a tool.
   * Output will be streamed to the live console.
   * Returns promise with return code
   *
   * @param     tool     path to tool to exec
   * @param     options  optional exec options.  See ExecOptions
   * @returns   number
   */
  exec() {
    return __awaiter3(this, void 0, void 0, function* () {
      if (!isRooted(this.toolPath) && (this.toolPath.includes("/") || IS_WINDOWS2 && this.toolPath.includes("\\"))) {
        this.toolPath = path5.resolve(process.cwd(), this.options.cwd || process.cwd(), this.toolPath);
      }
      this.toolPath = yield which(this.toolPath, true);
      return new Promise((resolve3, reject) => __awaiter3(this, void 0, void 0, function* () {
        this._debug(`exec tool: ${this.toolPath}`);
        this._debug("arguments:");
        for (const arg of this.args) {
          this._debug(`   ${arg}`);
        }
        const optionsNonNull = this._cloneExecOptions(this.options);
        if (!optionsNonNull.silent && optionsNonNull.outStream) {
          optionsNonNull.outStream.write(this._getCommandString(optionsNonNull) + os.EOL);
        }
        const state = new ExecState(optionsNonNull, this.toolPath);
        state.on("debug", (message) => {
          this._debug(message);
        });
        if (this.options.cwd && !(yield exists(this.options.cwd))) {
          return reject(new Error(`The cwd: ${this.options.cwd} does not exist!`));
        }
        const fileName = this._getSpawnFileName();
        const cp = child.spawn(fileName, this._getSpawnArgs(optionsNonNull), this._getSpawnOptions(this.options, fileName));
        let stdbuffer = "";
        if (cp.stdout) {
          cp.stdout.on("data", (data) => {
            if (this.options.listeners && this.options.listeners.stdout) {
              this.options.listeners.stdout(data);
            }
            if (!optionsNonNull.silent && optionsNonNull.outStream) {
              optionsNonNull.outStream.write(data);
            }
            stdbuffer = this._processLineBuffer(data, stdbuffer, (line) => {
              if (this.options.listeners && this.options.listeners.stdline) {
                this.options.listeners.stdline(line);
              }
            });
          });
        }
        let errbuffer = "";
        if (cp.stderr) {
          cp.stderr.on("data", (data) => {
            state.processStderr = true;
            if (this.options.listeners && this.options.listeners.stderr) {
              this.options.listeners.stderr(data);
            }
            if (!optionsNonNull.silent && optionsNonNull.errStream && optionsNonNull.outStream) {
              const s = optionsNonNull.failOnStdErr ? optionsNonNull.errStream : optionsNonNull.outStream;
              s.write(data);
            }
            errbuffer = this._processLineBuffer(data, errbuffer, (line) => {
              if (this.options.listeners && this.options.listeners.errline) {
                this.options.listeners.errline(line);
              }
            });
          });
        }
        cp.on("error", (err) => {
          state.processError = err.message;
          state.processExited = true;
          state.processClosed = true;
          state.CheckComplete();
        });
        cp.on("exit", (code) => {
          state.processExitCode = code;
          state.processExited = true;
          this._debug(`Exit code ${code} received from tool '${this.toolPath}'`);
          state.CheckComplete();
        });
        cp.on("close", (code) => {
          state.processExitCode = code;
          state.processExited = true;
          state.processClosed = true;
          this._debug(`STDIO streams have closed for tool '${this.toolPath}'`);
          state.CheckComplete();
        });
        state.on("done", (error, exitCode) => {
          if (stdbuffer.length > 0) {
            this.emit("stdline", stdbuffer);
          }
          if (errbuffer.length > 0) {
            this.emit("errline", errbuffer);
          }
          cp.removeAllListeners();
          if (error) {
            reject(error);
          } else {
            resolve3(exitCode);
          }
        });
        if (this.options.input) {
          if (!cp.stdin) {
            throw new Error("child process missing stdin");
          }
          cp.stdin.end(this.options.input);
        }
      }));
    });
  }
};
function argStringToArray(argString) {
  const args = [];
  let inQuotes = false;
  let escaped = false;
  let arg = "";
  function append(c) {
    if (escaped && c !== '"') {
      arg += "\\";
    }
    arg += c;
    escaped = false;
  }
  for (let i = 0; i < argString.length; i++) {
    const c = argString.charAt(i);
    if (c === '"') {
      if (!escaped) {
        inQuotes = !inQuotes;
      } else {
        append(c);
      }
      continue;
    }
    if (c === "\\" && escaped) {
      append(c);
      continue;
    }
    if (c === "\\" && inQuotes) {
      escaped = true;
      continue;
    }
    if (c === " " && !inQuotes) {
      if (arg.length > 0) {
        args.push(arg);
        arg = "";
      }
      continue;
    }
    append(c);
  }
  if (arg.length > 0) {
    args.push(arg.trim());
  }
  return args;
}
var ExecState = class _ExecState extends events.EventEmitter {
  constructor(options, toolPath) {
    super();
    this.processClosed = false;
    this.processError = "";
    this.processExitCode = 0;
    this.processExited = false;
    this.processStderr = false;
    this.delay = 1e4;
    this.done = false;
    this.timeout = null;
    if (!toolPath) {
      throw new Error("toolPath must not be empty");
    }
    this.options = options;
    this.toolPath = toolPath;
    if (options.delay) {
      this.delay = options.delay;
    }
  }
  CheckComplete() {
    if (this.done) {
      return;
    }
    if (this.processClosed) {
      this._setResult();
    } else if (this.processExited) {
      this.timeout = setTimeout2(_ExecState.HandleTimeout, this.delay, this);
    }
  }
  _debug(message) {
    this.emit("debug", message);
  }
  _setResult() {
    let error;
    if (this.processExited) {
      if (this.processError) {
        error = new Error(`There was an error when attempting to execute the process '${this.toolPath}'. This may indicate the process failed to start. Error: ${this.processError}`);
      } else if (this.processExitCode !== 0 && !this.options.ignoreReturnCode) {
        error = new Error(`The process '${this.toolPath}' failed with exit code ${this.processExitCode}`);
      } else if (this.processStderr && this.options.failOnStdErr) {
        error = new Error(`The process '${this.toolPath}' failed because one or more lines were written to the STDERR stream`);
      }
    }
    if (this.timeout) {
      clearTimeout(this.timeout);
      this.timeout = null;
    }
    this.done = true;
    this.emit("done", error, this.processExitCode);
  }
  static HandleTimeout(state) {
    if (state.done) {
      return;
    }
    if (!state.processClosed && state.processExited) {
      const message = `The STDIO streams did not close within ${state.delay / 1e3} seconds of the exit event from process '${state.toolPath}'. This may indicate a child process inherited the STDIO streams and has not yet exited.`;
      state._debug(message);
    }
    state._setResult();
  }
};

// node_modules/@actions/exec/lib/exec.js
var __awaiter4 = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve3) {
      resolve3(value);
    });
  }
  return new (P || (P = Promise))(function(resolve3, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve3(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
function exec(commandLine, args, options) {
  return __awaiter4(this, void 0, void 0, function* () {
    const commandArgs = argStringToArray(commandLine);
    if (commandArgs.length === 0) {
      throw new Error(`Parameter 'commandLine' cannot be null or empty.`);
    }
    const toolPath = commandArgs[0];
    args = commandArgs.slice(1).concat(args || []);
    const runner = new ToolRunner(toolPath, args, options);
    return runner.exec();
  });
}

// action/exec-runner.ts
var ExecRunner = class {
  /** `output`: where the commands' stdout goes (the CLI sends it to stderr). */
  constructor(output) {
    this.output = output;
  }
  output;
  async which(tool) {
    const found = await which(tool, false);
    return found === "" ? void 0 : found;
  }
  async run(command, args, options = {}) {
    const env = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== void 0) env[name] = value;
    }
    Object.assign(env, options.env);
    return exec(command, [...args], {
      env,
      ignoreReturnCode: true,
      ...this.output ? { outStream: this.output } : {}
    });
  }
};

// action/cli.ts
async function main(argv) {
  const logger = new ConsoleLogger({ write: (line) => process.stderr.write(`${line}
`) });
  let command;
  try {
    command = parseCliArgs(argv, process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    for (const name of ["OTA_API_TOKEN", "OTA_PASSWORD", "OTA_DEVICE_TOKEN", "OTA_GROUP_TOKEN"]) {
      const value = process.env[name];
      if (value) logger.setSecret(value);
    }
    process.stderr.write(
      `ota-deploy: ${logger.mask(error.message)}
Run ota-deploy --help for the options.
`
    );
    return 2;
  }
  if (command.kind === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command.kind === "tool-version") {
    process.stdout.write(`ota-deploy ${packageVersion()}
`);
    return 0;
  }
  const verboseLogger = new ConsoleLogger({
    write: (line) => process.stderr.write(`${line}
`),
    verbose: command.verbose
  });
  try {
    const result = await deploy(command.settings, {
      logger: verboseLogger,
      runner: new ExecRunner(process.stderr)
    });
    process.stdout.write(
      command.json ? `${JSON.stringify(result)}
` : `${result.status} ${result.version} to ${result.target.kind} ${result.target.id} (${result.size} bytes, sha256 ${result.sha256}, OTA client: ${otaClientList(result.otaClient)})
`
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ota-deploy: ${verboseLogger.mask(message)}
`);
    return error instanceof SettingsError ? 2 : 1;
  }
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ota-deploy: ${error instanceof Error ? error.message : String(error)}
`);
    process.exitCode = 1;
  }
);
