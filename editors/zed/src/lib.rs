//! Zed extension: start `plaintext-crm lsp` (docs/editor.md) for Markdown and YAML files.
use zed_extension_api::{self as zed, LanguageServerId, Result};

struct PlaintextCrm;

impl zed::Extension for PlaintextCrm {
    fn new() -> Self {
        PlaintextCrm
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        // The plaintext-crm the worktree's shell finds, so a project's virtual environment works too.
        let command = worktree.which("plaintext-crm").ok_or_else(|| {
            "plaintext-crm is not on PATH: install it with `pip install 'plaintext-crm[lsp]'`".to_string()
        })?;
        Ok(zed::Command {
            command,
            args: vec!["lsp".to_string()],
            env: worktree.shell_env(),
        })
    }
}

zed::register_extension!(PlaintextCrm);
