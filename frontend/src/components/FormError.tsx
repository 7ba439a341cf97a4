import { Alert } from "@mantine/core";

/** The form-level message: what the API said that no field of the form can show. */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <Alert color="red" role="alert">
      {message}
    </Alert>
  ) : null;
}
