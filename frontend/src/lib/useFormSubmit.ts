import { useState } from "react";

import { applyProblem } from "./forms";

interface SubmittableForm<V> {
  onSubmit(handler: (values: V) => void): (event?: React.FormEvent<HTMLFormElement>) => void;
  setErrors(errors: Record<string, string>): void;
  getValues(): object;
}

/**
 * Every form's submit: busy while `send` runs, and a refusal from the API put where it belongs — field
 * messages on their fields (`applyProblem`), the rest in `formError` for the form's alert.
 */
export function useFormSubmit<V>(form: SubmittableForm<V>, send: (values: V) => Promise<unknown>) {
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const submit = form.onSubmit(async (values) => {
    setFormError(null);
    setSaving(true);
    try {
      await send(values);
    } catch (error) {
      setFormError(applyProblem(form, error));
    } finally {
      setSaving(false);
    }
  });
  return { submit, saving, formError, setFormError };
}
