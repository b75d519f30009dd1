// Drives an emulated master's v1 operator API with @dcos/mesos-client
// 1.0.0 (the DC/OS UI's client of the Mesos operator API and its event
// stream) and prints one JSON line per milestone on stdout, for
// crates/mesos-sim/tests/mesos_client_fidelity.rs:
//
//   {"step":"flags","flags":[...]}           GET_FLAGS through request()
//   {"step":"refused","code":400,"body":...} GET_METRICS without its payload
//   {"step":"event","event":{...}}           each record of stream(SUBSCRIBE)
//   {"step":"done"}                          after FRAMEWORK_REMOVED
//
// Usage: node mesos_client_flow.js MASTER_URL. Exits 0 when done, 1 on a
// client error, 2 when the whole flow takes longer than 60 s.
"use strict";

const http = require("http");
const { StringDecoder } = require("string_decoder");

// The client is written for browsers: it reads through XMLHttpRequest and
// its "progress" events, parsing RecordIO from the growing responseText.
// Node has no XMLHttpRequest, so this is the part of the standard one the
// client uses (open, setRequestHeader, send, abort, responseText that grows
// while LOADING, progress/load/error/abort/timeout events), over http.
class XMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = "";
    this.responseText = "";
    this.responseType = "";
    this.timeout = 0;
    this.listeners = {};
    this.headers = {};
  }
  addEventListener(type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
  }
  dispatch(type) {
    for (const fn of this.listeners[type] || []) fn({ type, target: this });
  }
  open(method, url) {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  get response() {
    return this.responseText;
  }
  send(body) {
    const url = new URL(this.url);
    this.req = http.request(url, { method: this.method, headers: this.headers }, (res) => {
      this.status = res.statusCode;
      this.statusText = res.statusMessage;
      this.readyState = 2;
      const decoder = new StringDecoder("utf8");
      res.on("data", (chunk) => {
        this.responseText += decoder.write(chunk);
        this.readyState = 3;
        this.dispatch("progress");
      });
      res.on("end", () => {
        this.responseText += decoder.end();
        this.readyState = 4;
        this.dispatch("load");
      });
    });
    this.req.on("error", () => {
      if (!this.aborted) {
        this.readyState = 4;
        this.dispatch("error");
      }
    });
    if (this.timeout > 0) {
      this.req.setTimeout(this.timeout, () => {
        this.req.destroy();
        this.dispatch("timeout");
      });
    }
    this.req.end(body);
  }
  abort() {
    this.aborted = true;
    if (this.req) this.req.destroy();
    this.readyState = 4;
    this.dispatch("abort");
  }
}
global.XMLHttpRequest = XMLHttpRequest;

const { request, stream } = require("@dcos/mesos-client");

const master = process.argv[2];
if (!master) {
  console.error("usage: node mesos_client_flow.js MASTER_URL");
  process.exit(1);
}
const api = `${master}/api/v1`;

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function fail(what, err) {
  console.error(`${what}: ${JSON.stringify(err)}`);
  process.exit(1);
}

setTimeout(() => {
  console.error("mesos_client_flow: gave up after 60 s");
  process.exit(2);
}, 60000).unref();

function getFlags() {
  return new Promise((resolve) => {
    request({ type: "GET_FLAGS" }, api).subscribe(
      (text) => {
        const answer = JSON.parse(text);
        say({ step: "flags", type: answer.type, flags: answer.get_flags.flags });
      },
      (err) => fail("GET_FLAGS", err),
      resolve
    );
  });
}

function refusedCall() {
  return new Promise((resolve) => {
    request({ type: "GET_METRICS" }, api).subscribe(
      (text) => fail("GET_METRICS without get_metrics was answered", text),
      (err) => {
        say({ step: "refused", code: err.code, body: err.response });
        resolve();
      }
    );
  });
}

function subscribe() {
  const subscription = stream({ type: "SUBSCRIBE" }, api).subscribe(
    (record) => {
      const event = JSON.parse(record);
      say({ step: "event", event });
      if (event.type === "FRAMEWORK_REMOVED") {
        subscription.unsubscribe();
        say({ step: "done" });
        process.exit(0);
      }
    },
    (err) => fail("SUBSCRIBE stream", err),
    () => fail("SUBSCRIBE stream", "ended before FRAMEWORK_REMOVED")
  );
}

getFlags()
  .then(refusedCall)
  .then(subscribe);
