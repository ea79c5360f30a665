// The bondmap extension: starts `bondmap lsp` on stdio for `.map` files.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("bondmap").get("path") || "bondmap";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "bondmap",
    "bondmap",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "bondmap" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
