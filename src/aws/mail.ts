import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { mapAwsError } from './errors.js';

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MailApi {
  send(message: MailMessage): Promise<string | undefined>;
}

export function createMailApi(client: SESv2Client): MailApi {
  return {
    async send({ from, to, subject, text }) {
      try {
        const out = await client.send(
          new SendEmailCommand({
            FromEmailAddress: from,
            Destination: { ToAddresses: to },
            Content: { Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: text, Charset: 'UTF-8' } } } },
          }),
        );
        return out.MessageId;
      } catch (error) {
        throw mapAwsError(error, 'ses:SendEmail', to.join(', '));
      }
    },
  };
}
