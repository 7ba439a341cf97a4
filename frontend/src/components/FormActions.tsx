import { Button, Group, type GroupProps } from "@mantine/core";

/** A form's footer: Cancel (when the form can be left) and the submit button, busy while saving. */
export function FormActions({
  submitLabel,
  saving,
  onCancel,
  justify = "flex-end",
}: {
  submitLabel: string;
  saving: boolean;
  onCancel?: () => void;
  justify?: GroupProps["justify"];
}) {
  return (
    <Group justify={justify}>
      {onCancel ? (
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
      ) : null}
      <Button type="submit" loading={saving}>
        {submitLabel}
      </Button>
    </Group>
  );
}
