import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { mapAwsError } from './errors.js';

export interface TopicApi {
  publish(topicArn: string, message: string, subject?: string): Promise<void>;
}

export function createTopicApi(client: SNSClient): TopicApi {
  return {
    async publish(topicArn, message, subject) {
      try {
        // SNS subjects are at most 100 ASCII characters.
        await client.send(new PublishCommand({ TopicArn: topicArn, Message: message, ...(subject ? { Subject: subject.slice(0, 100) } : {}) }));
      } catch (error) {
        throw mapAwsError(error, 'sns:Publish', topicArn);
      }
    },
  };
}
